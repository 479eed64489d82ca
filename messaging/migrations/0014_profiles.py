"""The SDK's Profile fields, and the indexes of the people directory's prefix search.

The directory (queries/directory.py) asks ``UPPER(username) LIKE 'ABC%'`` and the
same of ``nick`` (Django's ``istartswith``). On PostgreSQL a B-tree index answers
such a prefix only with a pattern operator class when the database's collation is
not C, hence ``text_pattern_ops`` on the upper-cased expressions. SQLite (the
embedded default) gets no such index: it is created on PostgreSQL only.
"""

from django.db import migrations, models

INDEXES = (
    ("messaging_user_username_upper_prefix", 'UPPER("username"::text) text_pattern_ops'),
    ("messaging_user_nick_upper_prefix", 'UPPER("nick"::text) text_pattern_ops'),
)


def create_prefix_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = apps.get_model("messaging", "User")._meta.db_table
    for name, expression in INDEXES:
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ({expression})')


def drop_prefix_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _ in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0013_friends"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="gender",
            field=models.CharField(default="Gender_Type_Unknown", max_length=24),
        ),
        migrations.AddField(
            model_name="user",
            name="birthday",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="user",
            name="location",
            field=models.CharField(blank=True, max_length=16),
        ),
        migrations.AddField(
            model_name="user",
            name="self_signature",
            field=models.CharField(blank=True, max_length=500),
        ),
        migrations.AddField(
            model_name="user",
            name="profile_custom_field",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(create_prefix_indexes, drop_prefix_indexes, elidable=False),
    ]
