"""messaging/pg_loaders.py on PostgreSQL: ``timestamptz`` values parsed by psycopg's C loader
are the values Django's own loader gives, in a UTC session and in any other.

Runs in a child ``manage.py shell`` (the main run's Django is on SQLite; see
test_postgres_actions.py for why a child), on a fresh database.
"""

import json

import pytest

from tests.integration.conftest import fresh_database
from tests.servers import child_env, manage

pytestmark = pytest.mark.integration

COMPARE = r"""
import json
from django.db import connection
from psycopg.pq import Format
from messaging import pg_loaders

TEXTS = ["2026-12-04 19:52:54.417790+00", "0001-01-01 00:00:00+00", "9999-12-31 23:59:59.999999+00",
         "2026-03-29 02:30:00.5+02", "1969-07-20 20:17:40-05:30", "2000-02-29 12:00:00.000001+14"]

def read(cursor, texts=TEXTS):
    cursor.execute("SELECT " + ", ".join("%s::timestamptz" for _ in texts), texts)
    return list(cursor.fetchone())

out = {}
with connection.cursor() as cursor:
    adapters = cursor.cursor.adapters  # after Django's create_cursor, which re-registers its own on a mismatch
    out["loader"] = adapters.get_loader(pg_loaders.TIMESTAMPTZ, Format.TEXT).__name__
    made = pg_loaders.UtcTimestamptzLoader(pg_loaders.TIMESTAMPTZ, cursor.cursor)  # as psycopg makes it, per result
    out["parser"] = type(made.load.__self__).__module__
    fast = read(cursor)
    for zone in ("UTC", "Asia/Kolkata"):
        cursor.execute(f"SET TIME ZONE '{zone}'")
        texts = TEXTS if zone == "UTC" else [t for t in TEXTS if not t.startswith("9999")]  # past year 9999 there
        ours = read(cursor, texts)
        cursor.cursor.adapters.register_loader("timestamptz", pg_loaders.DjangoUtcLoader)
        django = read(cursor, texts)
        cursor.cursor.adapters.register_loader("timestamptz", pg_loaders.UtcTimestamptzLoader)
        out[zone] = {"ours": [v.isoformat() for v in ours], "django": [v.isoformat() for v in django],
                     "utc": all(v.tzinfo is pg_loaders.UTC for v in ours), "same": ours == django}
    out["first"] = [v.isoformat() for v in fast]
print("RESULT=" + json.dumps(out))
"""


def test_timestamps_read_through_psycopgs_parser_are_djangos_values(postgres_url):
    with fresh_database(postgres_url) as database_url:
        env = child_env(DATABASE_URL=database_url, CHAT_DB_POOL_MAX=2)
        env.pop("REDIS_URL", None)
        output = manage(env, "shell", "-c", COMPARE, timeout=120)
    result = json.loads(output.rsplit("RESULT=", 1)[1])
    assert result["loader"] == "UtcTimestamptzLoader"
    assert result["parser"].startswith("psycopg_binary"), result["parser"]  # C, not psycopg/types/datetime.py
    utc, kolkata = result["UTC"], result["Asia/Kolkata"]
    assert utc["same"] and utc["utc"], utc
    assert utc["ours"][0] == "2026-12-04T19:52:54.417790+00:00"
    assert utc["ours"][3] == "2026-03-29T00:30:00.500000+00:00"  # an offset moved to UTC
    assert utc["ours"] == result["first"]
    # Another session zone: Django's loader, so Django's values whatever they are.
    assert kolkata["same"] and kolkata["utc"], kolkata
