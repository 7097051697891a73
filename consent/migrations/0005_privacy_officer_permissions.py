"""The Privacy officer group handles data-subject requests and reads consent, visitors and events.

Audit entries are only ever viewed: the log is evidence, so no one adds or changes entries by hand.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Privacy officer"
GRANTS = {
    "consent": [
        "add_datasubjectrequest",
        "change_datasubjectrequest",
        "view_datasubjectrequest",
        "view_privacyauditentry",
        "view_consentrecord",
    ],
    "personalization": ["view_visitor", "view_event"],
}


def _permissions(apps):
    Permission = apps.get_model("auth", "Permission")
    for label, codenames in GRANTS.items():
        present = Permission.objects.filter(content_type__app_label=label, codename__in=codenames)
        if present.count() == len(codenames):
            continue
        # Permissions are normally created after all migrations; make the missing ones exist now.
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    wanted = Permission.objects.none()
    for label, codenames in GRANTS.items():
        wanted |= Permission.objects.filter(content_type__app_label=label, codename__in=codenames)
    return wanted


def grant_privacy_officer(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(*_permissions(apps))


def revoke_privacy_officer(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    group = Group.objects.filter(name=GROUP).first()
    if group is not None:
        group.permissions.remove(*_permissions(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0004_subject_requests"),
        ("content", "0003_roles"),
        ("personalization", "0001_initial"),
    ]

    operations = [migrations.RunPython(grant_privacy_officer, revoke_privacy_officer)]
