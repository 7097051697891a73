"""Analysts read background runs, segments and clusters: aggregate figures, no one's data."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

READ = ["modelrun", "clusterrun", "cluster", "scorerun", "segmentrun", "featurerun", "segment"]


def grant_analyst(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    if not Permission.objects.filter(content_type__app_label="personalization", codename="view_scorerun").exists():
        # Permissions are normally created after all migrations; make them exist now.
        app_config = apps.get_app_config("personalization")
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    perms = Permission.objects.filter(
        content_type__app_label="personalization", codename__in=[f"view_{model}" for model in READ]
    )
    analyst, _ = Group.objects.get_or_create(name="Analyst")
    analyst.permissions.add(*perms)


def revoke_analyst(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    perms = Permission.objects.filter(
        content_type__app_label="personalization", codename__in=[f"view_{model}" for model in READ]
    )
    for group in apps.get_model("auth", "Group").objects.filter(name="Analyst"):
        group.permissions.remove(*perms)


class Migration(migrations.Migration):
    dependencies = [("personalization", "0011_scores"), ("content", "0003_roles")]

    operations = [migrations.RunPython(grant_analyst, revoke_analyst)]
