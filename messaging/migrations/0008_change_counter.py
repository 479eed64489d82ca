from django.db import migrations, models


def start_counters(apps, schema_editor):
    """Existing threads: one change per stored message so far (recalls made before the
    counter existed are already in every fetch). Two UPDATEs, whatever the data size."""
    Thread = apps.get_model("messaging", "Thread")
    Message = apps.get_model("messaging", "Message")
    Thread.objects.update(last_change=models.F("last_seq"))
    Message.objects.update(change=models.F("seq"), created_change=models.F("seq"))


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0007_message_revoker"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="change",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="message",
            name="created_change",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="thread",
            name="last_change",
            field=models.BigIntegerField(default=0),
        ),
        migrations.RunPython(start_counters, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(fields=["thread", "change"], name="message_change_idx"),
        ),
    ]
