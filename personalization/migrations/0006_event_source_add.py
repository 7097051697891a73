"""Events get a source, the sender whose event ids they share; empty until the next migration."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("personalization", "0005_clusters")]

    operations = [
        migrations.AddField(
            model_name="event",
            name="source",
            field=models.CharField(max_length=50, null=True),
        ),
    ]
