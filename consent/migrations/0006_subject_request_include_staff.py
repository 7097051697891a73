"""Erasure requests say whether a staff account may be erased with its subject."""


from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('consent', '0005_privacy_officer_permissions'),
    ]

    operations = [
        migrations.AddField(
            model_name='datasubjectrequest',
            name='include_staff',
            field=models.BooleanField(default=False, help_text="Erasure anonymizes the subject's user account; a staff account only when this is ticked (it loses its admin access). The last active superuser is never erased.", verbose_name='include staff accounts'),
        ),
    ]
