"""A send's UPDATE of its thread's conversation rows becomes HOT on PostgreSQL.

It sets each row's last message, time, hidden flag and unread count. Two indexes held
those columns (the list's (user, is_hidden, -is_pinned, -last_time) and the last
message's foreign-key index), so every updated row took a new entry in each of the
table's nine indexes, and the deferred foreign-key check ran once per row at commit:
150–190 ms for one message to a 5,000-member group. Without them the rows are updated
in place on their pages (heap-only tuples), 27–30 ms for the same 5,000 rows. The
table's pages keep 30 % free for those in-place versions (fillfactor 70).
docs/PERFORMANCE.md, "the live room under 1 s".
"""

import django.db.models.deletion
from django.db import migrations, models

FILLFACTOR = 70


def set_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        table = apps.get_model("messaging", "Conversation")._meta.db_table
        schema_editor.execute(f'ALTER TABLE "{table}" SET (fillfactor = {FILLFACTOR})')


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        table = apps.get_model("messaging", "Conversation")._meta.db_table
        schema_editor.execute(f'ALTER TABLE "{table}" RESET (fillfactor)')


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0026_message_reactions"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="conversation",
            name="conversation_list_idx",
        ),
        migrations.AlterField(
            model_name="conversation",
            name="last_message",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="messaging.message",
            ),
        ),
        migrations.RunPython(set_fillfactor, reset_fillfactor, elidable=False),
    ]
