"""Leases on recommendation and clustering runs: heartbeat, attempt, retried run, options."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('personalization', '0008_event_unique_per_source'),
    ]

    operations = [
        migrations.AddField(
            model_name='clusterrun',
            name='attempt',
            field=models.PositiveSmallIntegerField(default=1),
        ),
        migrations.AddField(
            model_name='clusterrun',
            name='chunks_finished',
            field=models.JSONField(blank=True, default=list, editable=False),
        ),
        migrations.AddField(
            model_name='clusterrun',
            name='heartbeat_at',
            field=models.DateTimeField(default=django.utils.timezone.now, help_text='Last sign of life of the task working on the run.'),
        ),
        migrations.AddField(
            model_name='clusterrun',
            name='retry_of',
            field=models.ForeignKey(blank=True, help_text='The run this one starts again after its worker was lost.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='personalization.clusterrun'),
        ),
        migrations.AddField(
            model_name='clusterrun',
            name='task_options',
            field=models.JSONField(blank=True, default=dict, editable=False, help_text='What the dispatching task was asked, its id and queue: to start it again.'),
        ),
        migrations.AddField(
            model_name='modelrun',
            name='attempt',
            field=models.PositiveSmallIntegerField(default=1),
        ),
        migrations.AddField(
            model_name='modelrun',
            name='chunks_finished',
            field=models.JSONField(blank=True, default=list, editable=False),
        ),
        migrations.AddField(
            model_name='modelrun',
            name='heartbeat_at',
            field=models.DateTimeField(default=django.utils.timezone.now, help_text='Last sign of life of the task working on the run.'),
        ),
        migrations.AddField(
            model_name='modelrun',
            name='retry_of',
            field=models.ForeignKey(blank=True, help_text='The run this one starts again after its worker was lost.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='personalization.modelrun'),
        ),
        migrations.AddField(
            model_name='modelrun',
            name='task_options',
            field=models.JSONField(blank=True, default=dict, editable=False, help_text='What the dispatching task was asked, its id and queue: to start it again.'),
        ),
    ]
