"""The people directory on PostgreSQL: migration 0014's prefix indexes answer
searchCloudUsers's queries (EXPLAIN shows both index scans), with 20,000 users.

Runs in a child ``manage.py shell`` on a fresh database (the main run's Django is on
SQLite; see test_postgres_actions.py for why a child): it migrates, loads users with
the benchmark's loader (bench/directory.py), ANALYZEs, captures the SQL that
``queries.directory.search_users`` runs and prints each query's plan as JSON.
"""

import json

import pytest

from tests.integration.conftest import fresh_database
from tests.servers import child_env, manage

pytestmark = pytest.mark.integration

EXPLAIN_SEARCH = """
import json
from django.db import connection
from django.test.utils import CaptureQueriesContext
from bench.directory import load_users
from messaging.models import User
from messaging.queries.directory import search_users
load_users(20000)
viewer = User.objects.filter(is_active=True).first()
plans = []
for keyword in ("ada", "E", "grace.kim"):
    with CaptureQueriesContext(connection) as queries:
        result = search_users(viewer, [keyword])
    for query in queries:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (FORMAT JSON) " + query["sql"])
            plans.append({"keyword": keyword, "sql": query["sql"], "plan": cursor.fetchone()[0], "found": result["totalCount"]})
print("PLANS=" + json.dumps(plans))
"""


def index_names(node):
    """Every index a plan node (and its children) scans."""
    names = {node["Index Name"]} if "Index Name" in node else set()
    for child in node.get("Plans", ()):
        names |= index_names(child)
    return names


def shell_on_migrated_database(postgres_url, code, *, timeout):
    """``code``'s ``PLANS=`` output (JSON) from a child ``manage.py shell`` on a fresh, migrated database."""
    with fresh_database(postgres_url) as database_url:
        env = child_env(DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="bench.settings", CHAT_DB_POOL_MAX=2)
        env.pop("REDIS_URL", None)
        manage(env, "migrate", "--noinput")
        output = manage(env, "shell", "-c", code, timeout=timeout)
    return json.loads(output.rsplit("PLANS=", 1)[1])


def test_the_prefix_search_uses_the_upper_text_pattern_ops_indexes(postgres_url):
    plans = shell_on_migrated_database(postgres_url, EXPLAIN_SEARCH, timeout=300)
    assert len(plans) == 6  # two queries (count, page) per search
    for entry in plans:
        used = index_names(entry["plan"][0]["Plan"])
        assert {"messaging_user_username_upper_prefix", "messaging_user_nick_upper_prefix"} <= used, (entry["sql"], used)
        assert entry["found"] > 0
