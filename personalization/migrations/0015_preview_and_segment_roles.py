"""Editors and Analysts preview the site as a segment, and view segments to target them.

Previewing as a real visitor also needs `view_visitor`, which these roles do not get here.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {"Editor": ["preview_visitor", "view_segment"], "Analyst": ["preview_visitor", "view_segment"]}


def _permissions(apps, codenames):
    Permission = apps.get_model("auth", "Permission")
    found = Permission.objects.filter(content_type__app_label="personalization", codename__in=codenames)
    if found.count() != len(set(codenames)):
        # Permissions are normally created after all migrations; make the missing ones exist now.
        app_config = apps.get_app_config("personalization")
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    return Permission.objects.filter(content_type__app_label="personalization", codename__in=codenames)


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name, codenames in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*_permissions(apps, codenames))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name, codenames in GRANTS.items():
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.remove(*_permissions(apps, codenames))


class Migration(migrations.Migration):
    dependencies = [("personalization", "0014_preview_permission"), ("content", "0003_roles")]

    operations = [migrations.RunPython(grant, revoke)]
