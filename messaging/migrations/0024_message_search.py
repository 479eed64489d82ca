"""The index of message search (searchCloudMessages, queries/message_search.py), on
PostgreSQL only: SQLite (the embedded default) scans with LIKE.

A message's searchable text is ``chat_search_text(payload)``: the lower-cased text of a
text message, the name of a file, the description of a custom or location message, the
title of a merged one. A pg_trgm GIN index over it answers ``LIKE '%keyword%'`` for a
keyword of three characters or more, in any script: in a UTF-8 database pg_trgm counts
Chinese, Japanese and Korean characters as word characters, and a CJK sentence has no
spaces, so "你好世" is a trigram of "我说你好世界". A keyword of one or two characters
has no trigram to look up; the search's scope (the user's conversations) then leads.
A bigram index was measured against it (docs/PERFORMANCE.md, bench/search.py).
"""

from django.db import migrations

SEARCH_TEXT_FUNCTION = """
CREATE OR REPLACE FUNCTION chat_search_text(payload jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT lower(coalesce(payload->>'text', payload->>'fileName', payload->>'description', payload->>'title', ''))
$$
"""
INDEX = "messaging_message_search_trgm"


def create_search_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = apps.get_model("messaging", "Message")._meta.db_table
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(SEARCH_TEXT_FUNCTION)
    schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "{table}" USING gin (chat_search_text("payload") gin_trgm_ops)')


def drop_search_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f'DROP INDEX IF EXISTS "{INDEX}"')
    schema_editor.execute("DROP FUNCTION IF EXISTS chat_search_text(jsonb)")


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0023_conversation_management"),
    ]

    operations = [
        migrations.RunPython(create_search_index, drop_search_index, elidable=False),
    ]
