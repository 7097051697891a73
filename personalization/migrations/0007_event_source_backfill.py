"""Existing events get the source they came from, as their context recorded it.

Browser events get their visitor's browser source, events from the API the plain "api" (which key
sent them was not recorded), imports "import", and everything else (page views, tracked clicks,
demo data) "server". Event ids were unique across all events until now, so they stay unique per
source whatever the source. Rows are updated in ranges of primary keys, each range committed on
its own, so that a large events table is not locked as a whole.
"""

from django.db import migrations, models
from django.db.models.functions import Cast, Concat

BATCH = 50_000


def sources_fill(apps, schema_editor):
    Event = apps.get_model("personalization", "Event")
    bounds = Event.objects.aggregate(low=models.Min("pk"), high=models.Max("pk"))
    if bounds["low"] is None:
        return
    browser = Concat(
        models.Value("browser:"), Cast("visitor_id", output_field=models.CharField())
    )
    for start in range(bounds["low"], bounds["high"] + 1, BATCH):
        rows = Event.objects.filter(pk__gte=start, pk__lt=start + BATCH, source__isnull=True)
        rows.filter(context__source="browser").update(source=browser)
        rows.filter(context__source="api").update(source="api")
        rows.filter(context__source="import").update(source="import")
        rows.update(source="server")


def sources_empty(apps, schema_editor):
    apps.get_model("personalization", "Event").objects.update(source=None)


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("personalization", "0006_event_source_add")]

    operations = [migrations.RunPython(sources_fill, sources_empty)]
