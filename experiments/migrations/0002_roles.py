"""Editors manage experiments; Analysts read them and their results (roles: content 0003)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MANAGED = ["experiment", "variation", "metric"]
READ_ONLY = ["exposure", "allocationsnapshot"]


def grant_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    if not Permission.objects.filter(content_type__app_label="experiments").exists():
        # Permissions are normally created after all migrations; make them exist now.
        app_config = apps.get_app_config("experiments")
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    perms = Permission.objects.filter(content_type__app_label="experiments")
    editor, _ = Group.objects.get_or_create(name="Editor")
    editor.permissions.add(
        *perms.filter(
            codename__in=[f"{action}_{model}" for model in MANAGED for action in ("add", "change", "delete", "view")]
            + [f"view_{model}" for model in READ_ONLY]
        )
    )
    analyst, _ = Group.objects.get_or_create(name="Analyst")
    analyst.permissions.add(*perms.filter(codename__startswith="view_"))


def revoke_roles(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    perms = Permission.objects.filter(content_type__app_label="experiments")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=["Editor", "Analyst"]):
        group.permissions.remove(*perms)


class Migration(migrations.Migration):
    dependencies = [("experiments", "0001_initial"), ("content", "0003_roles")]

    operations = [migrations.RunPython(grant_roles, revoke_roles)]
