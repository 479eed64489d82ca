"""Message search on PostgreSQL: migration 0024 creates pg_trgm and the GIN index over
``chat_search_text(payload)``, and searchCloudMessages's queries use it (EXPLAIN shows
the index), across conversations and within one; CJK substrings are found.

Runs in a child ``manage.py shell`` on a fresh database (the main run's Django is on
SQLite; see test_postgres_actions.py for why a child): it migrates, loads 50,000
messages in long conversations with the benchmark's loader (bench/search.py), ANALYZEs,
captures the SQL that ``queries.message_search.search_cloud_messages`` runs for a rare
keyword and prints each query's plan as JSON.
"""

import pytest

from tests.integration.test_directory_pg import index_names, shell_on_migrated_database

pytestmark = pytest.mark.integration

EXPLAIN_SEARCH = """
import json
from django.db import connection
from django.test.utils import CaptureQueriesContext
from bench.search import load_search_world
from messaging.models import User
from messaging.queries.message_search import search_cloud_messages
load_search_world(50000, threads=20)
viewer = User.objects.get(username="s7")  # in threads 6 (s6) and 7 (s8), where the tickets are
conversation = "C2Cs8"
plans = []
for scope in (None, conversation):
    with CaptureQueriesContext(connection) as queries:
        result = search_cloud_messages(viewer, ["ticket-"], conversation_id=scope)
    matching = queries[0 if scope is None else 1]  # the aggregate; within one, the count
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + matching["sql"])
        plans.append({"scope": scope, "sql": matching["sql"], "plan": cursor.fetchone()[0], "found": result["totalCount"]})
cjk = search_cloud_messages(viewer, ["服务器"])["totalCount"], search_cloud_messages(viewer, ["你好"])["totalCount"]
print("PLANS=" + json.dumps({"plans": plans, "cjk": cjk}))
"""


def test_the_search_uses_the_trigram_index(postgres_url):
    report = shell_on_migrated_database(postgres_url, EXPLAIN_SEARCH, timeout=600)
    assert len(report["plans"]) == 2
    for entry in report["plans"]:
        used = index_names(entry["plan"][0]["Plan"])
        assert "messaging_message_search_trgm" in used, (entry["scope"], entry["sql"], used)
        assert entry["found"] > 0
    assert all(n > 0 for n in report["cjk"]), report["cjk"]
