"""Runs of compute_features and compute_segments, with the same leases as the other runs."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('personalization', '0009_run_leases'),
    ]

    operations = [
        migrations.CreateModel(
            name='FeatureRun',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('heartbeat_at', models.DateTimeField(default=django.utils.timezone.now, help_text='Last sign of life of the task working on the run.')),
                ('attempt', models.PositiveSmallIntegerField(default=1)),
                ('task_options', models.JSONField(blank=True, default=dict, editable=False, help_text='What the dispatching task was asked, its id and queue: to start it again.')),
                ('chunks_finished', models.JSONField(blank=True, default=list, editable=False)),
                ('status', models.CharField(choices=[('running', 'Running'), ('finished', 'Finished'), ('failed', 'Failed')], default='running', max_length=20)),
                ('started_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('duration_seconds', models.FloatField(blank=True, null=True)),
                ('visitors', models.PositiveIntegerField(default=0, help_text='Visitors to compute.')),
                ('chunks_total', models.PositiveIntegerField(default=0)),
                ('chunks_done', models.PositiveIntegerField(default=0)),
                ('error', models.TextField(blank=True)),
                ('retry_of', models.ForeignKey(blank=True, help_text='The run this one starts again after its worker was lost.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='personalization.featurerun')),
            ],
            options={
                'ordering': ['-started_at'],
            },
        ),
        migrations.CreateModel(
            name='SegmentRun',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('heartbeat_at', models.DateTimeField(default=django.utils.timezone.now, help_text='Last sign of life of the task working on the run.')),
                ('attempt', models.PositiveSmallIntegerField(default=1)),
                ('task_options', models.JSONField(blank=True, default=dict, editable=False, help_text='What the dispatching task was asked, its id and queue: to start it again.')),
                ('chunks_finished', models.JSONField(blank=True, default=list, editable=False)),
                ('status', models.CharField(choices=[('running', 'Running'), ('finished', 'Finished'), ('failed', 'Failed')], default='running', max_length=20)),
                ('started_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('duration_seconds', models.FloatField(blank=True, null=True)),
                ('visitors', models.PositiveIntegerField(default=0, help_text='Visitors to compute.')),
                ('chunks_total', models.PositiveIntegerField(default=0)),
                ('chunks_done', models.PositiveIntegerField(default=0)),
                ('error', models.TextField(blank=True)),
                ('retry_of', models.ForeignKey(blank=True, help_text='The run this one starts again after its worker was lost.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='personalization.segmentrun')),
            ],
            options={
                'ordering': ['-started_at'],
            },
        ),
    ]
