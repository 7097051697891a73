from django.db import migrations

KINDS = [
    ("article", "Article", "Editorial content: stories, guides, news."),
    ("product", "Product", "Something to buy; metadata holds price, brand and the like."),
    ("offer", "Offer", "A promotion or discount."),
    ("banner", "Banner", "A hero or teaser image with a call to action."),
    ("email-block", "Email block", "A block written for newsletters."),
    ("video", "Video", "A video with a poster image."),
]


def create_kinds(apps, schema_editor):
    ContentKind = apps.get_model("content", "ContentKind")
    for key, name, description in KINDS:
        ContentKind.objects.get_or_create(key=key, defaults={"name": name, "description": description})


def remove_unused_kinds(apps, schema_editor):
    ContentKind = apps.get_model("content", "ContentKind")
    ContentKind.objects.filter(key__in=[k for k, _, _ in KINDS], items__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("content", "0001_initial")]

    operations = [migrations.RunPython(create_kinds, remove_unused_kinds)]
