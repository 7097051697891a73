from django.db import migrations

PURPOSES = [
    ("necessary", "Strictly necessary", "Keeps the site working and remembers your privacy choices.",
     "legitimate_interest", True, None, 0),
    ("analytics", "Analytics", "Records the pages you view and what you click, to learn what works.",
     "consent", False, 395, 1),
    ("personalization", "Personalization", "Uses what you viewed to choose content and recommendations for you.",
     "consent", False, 395, 2),
    ("marketing", "Marketing", "Personalizes the emails we send you.", "consent", False, 730, 3),
]
POLICY_TEXT = (
    "Tailor stores the pages you view and what you click only with your consent, uses them to "
    "personalize content only with your consent, and lets you see, export or erase your data."
)


def create_purposes(apps, schema_editor):
    import hashlib

    Purpose = apps.get_model("consent", "Purpose")
    PolicyVersion = apps.get_model("consent", "PolicyVersion")
    for key, name, description, basis, required, retention, position in PURPOSES:
        Purpose.objects.get_or_create(
            key=key,
            defaults={"name": name, "description": description, "legal_basis": basis,
                      "is_required": required, "retention_days": retention, "position": position},
        )
    if not PolicyVersion.objects.exists():
        PolicyVersion.objects.create(
            version=1, text=POLICY_TEXT, text_hash=hashlib.sha256(POLICY_TEXT.encode()).hexdigest()
        )


def remove_purposes(apps, schema_editor):
    Purpose = apps.get_model("consent", "Purpose")
    Purpose.objects.filter(key__in=[p[0] for p in PURPOSES], records__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_initial")]

    operations = [migrations.RunPython(create_purposes, remove_purposes)]
