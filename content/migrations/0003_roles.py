"""The editor roles: Editor, Analyst and Privacy officer.

Later apps grant their own permissions to these groups in their migrations.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CONTENT_MODELS = ["contentkind", "contentitem", "tag", "slot", "slotrule"]


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    if not Permission.objects.filter(content_type__app_label="content").exists():
        # Permissions are normally created after all migrations; make them exist now.
        app_config = apps.get_app_config("content")
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    content_perms = Permission.objects.filter(content_type__app_label="content")

    editor, _ = Group.objects.get_or_create(name="Editor")
    editor.permissions.add(
        *content_perms.filter(
            codename__in=[f"{action}_{model}" for model in CONTENT_MODELS for action in ("add", "change", "delete", "view")]
        ),
        *content_perms.filter(codename="view_contentrevision"),
    )
    analyst, _ = Group.objects.get_or_create(name="Analyst")
    analyst.permissions.add(*content_perms.filter(codename__startswith="view_"))
    Group.objects.get_or_create(name="Privacy officer")


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Editor", "Analyst", "Privacy officer"]).delete()


class Migration(migrations.Migration):
    dependencies = [("content", "0002_default_kinds"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_roles, remove_roles)]
