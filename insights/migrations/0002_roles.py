"""Editors and Analysts see insights (dashboard, object panels); API keys use `insights:read`."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant_insights(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    if not Permission.objects.filter(content_type__app_label="insights").exists():
        # Permissions are normally created after all migrations; make them exist now.
        app_config = apps.get_app_config("insights")
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    permission = Permission.objects.get(content_type__app_label="insights", codename="view_insights")
    for name in ("Editor", "Analyst"):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(permission)


def revoke_insights(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    perms = Permission.objects.filter(content_type__app_label="insights")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=["Editor", "Analyst"]):
        group.permissions.remove(*perms)


class Migration(migrations.Migration):
    dependencies = [("insights", "0001_initial"), ("content", "0003_roles")]

    operations = [migrations.RunPython(grant_insights, revoke_insights)]
