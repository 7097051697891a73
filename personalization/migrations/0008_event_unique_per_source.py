"""Event ids are unique per source instead of across all events; new events default to "server".

Reversing needs event ids unique across sources again, which stops holding once two senders
used the same id.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("personalization", "0007_event_source_backfill")]

    operations = [
        migrations.AlterField(
            model_name="event",
            name="source",
            field=models.CharField(
                default="server",
                help_text='Who sent it: "server", "import", "browser:<visitor id>", '
                '"api-key:<key id>".',
                max_length=50,
            ),
        ),
        migrations.AlterField(
            model_name="event",
            name="event_id",
            field=models.CharField(
                db_index=True, help_text="The sender's id; unique per source.", max_length=100
            ),
        ),
        migrations.AddConstraint(
            model_name="event",
            constraint=models.UniqueConstraint(
                fields=("source", "event_id"), name="event_unique_per_source"
            ),
        ),
    ]
