"""The people directory's prefix search (searchCloudUsers) on PostgreSQL with many users.

    python -m bench.directory [--users 100000] [--searches 200] [--keep]

Makes its own database (``chat_bench_directory`` on the bench server, dropped at the
end unless ``--keep``), migrates it (migration 0012 adds the ``UPPER(...)
text_pattern_ops`` indexes), loads ``--users`` users in one ``INSERT ... SELECT
generate_series`` (``load_users``: 2,500 name pairs, so a prefix matches from a few
to thousands of users; 1 % banned), ANALYZEs, then times ``--searches`` calls of
``queries.directory.search_users`` (the count and the first page of 20, as the op
runs them) with prefixes of 1 to 6 characters cut from random users' IDs and nicks,
lower- or upper-cased. Prints median and p95 (ms) overall and by prefix length, the
query count of one call and the plan of a 1-letter search (``--explain``).
"""

import argparse
import os
import random
import time

from bench import stack
from bench.sql import generated_columns
from bench.stats import percentile

DEFAULT_DATABASE_URL = stack.DEFAULT_DATABASE_URL.rsplit("/", 1)[0] + "/chat_bench_directory"
FIRST = (
    "Ada Alan Alice Amir Anna Ben Bob Carl Carol Chen Dana Dave Emil Emma Erin Eva Felix Frank Grace Hana "
    "Igor Ivan Jana Jin Kate Kim Lars Lea Leo Lina Mara Max Mia Nina Noah Olga Omar Paul Petra Raj "
    "Rosa Sam Sara Tom Uma Vera Wei Xia Yuki Zoe"
).split()
LAST = (
    "Abbott Baker Chen Diaz Evans Fischer Garcia Hansen Ito Jones Kim Lopez Meyer Novak Olsen Park Quinn "
    "Rossi Schmidt Tanaka Ueda Vogel Wang Xu Young Zhang Adler Brandt Costa Dubois Eriksen Fontaine Gomez "
    "Hoffmann Ivanov Jensen Kowalski Larsen Moreau Nakamura Ortiz Petrov Ramos Silva Torres Urban Varga "
    "Weber Yilmaz Zimmer"
).split()


def scratch_parser(module, doc, database_env, default_database_url, *, seed, explain_help):
    """The arguments every search benchmark on its own database takes; the caller adds its size."""
    p = argparse.ArgumentParser(prog=f"python -m {module}", description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", default=os.environ.get(database_env, default_database_url))
    p.add_argument("--searches", type=int, default=200)
    p.add_argument("--seed", type=int, default=seed)
    p.add_argument("--keep", action="store_true", help="keep the database afterwards")
    p.add_argument("--explain", action="store_true", help=explain_help)
    return p


def parse_args(argv=None):
    p = scratch_parser(
        "bench.directory",
        __doc__,
        "BENCH_DIRECTORY_DATABASE_URL",
        DEFAULT_DATABASE_URL,
        seed=8,
        explain_help="print the plan of a 1-letter search",
    )
    p.add_argument("--users", type=int, default=100_000)
    return p.parse_args(argv)


def setup_django(database_url):
    os.environ["DATABASE_URL"] = database_url
    os.environ.pop("REDIS_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    stack.recreate_database(database_url)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def load_users(count):
    """``count`` users in one statement: userIDs ``<first>.<last>.<n>`` (lower case),
    nicks ``<First> <Last>``, every 100th banned. Columns come from the User model (a
    field the loader does not know takes its model default)."""
    from django.db import connection
    from django.utils import timezone

    from messaging.models import User

    known = {
        "username": "lower(f.first) || '.' || lower(l.last) || '.' || g",
        "nick": "f.first || ' ' || l.last",
        "password": "'!'",
        "is_active": "g %% 100 <> 0",
        "date_joined": "%(now)s",
    }
    params = {"now": timezone.now(), "count": count, "first": FIRST, "last": LAST}
    columns, exprs = generated_columns(User, known, params)
    lateral = (
        "CROSS JOIN LATERAL (SELECT (%(first)s::text[])[1 + g %% 50] AS first) f "
        "CROSS JOIN LATERAL (SELECT (%(last)s::text[])[1 + (g / 50) %% 50] AS last) l"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {User._meta.db_table} ({', '.join(columns)}) "
            f"SELECT {', '.join(exprs)} FROM generate_series(1, %(count)s) AS g {lateral}",
            params,
        )
        cursor.execute(f"ANALYZE {User._meta.db_table}")


def prefixes(count, seed):
    """(prefix, length) pairs cut from random users' IDs and nicks, in random case."""
    from messaging.models import User

    rng = random.Random(seed)
    sample = list(User.objects.order_by("?").values_list("username", "nick")[: count * 2])
    picked = []
    for i in range(count):
        username, nick = sample[i % len(sample)]
        source = username if i % 2 else nick
        length = 1 + i % 6
        text = source[:length]
        picked.append(text.upper() if rng.random() < 0.3 else text)
    return picked


def measure(searches, seed, explain=False):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from messaging.models import User
    from messaging.queries.directory import search_users

    viewer = User.objects.filter(is_active=True).first()
    words = prefixes(searches, seed)
    for word in words[:20]:  # warm-up: the plan cache and the buffers
        search_users(viewer, [word])
    times, by_length, totals = [], {}, []
    for word in words:
        start = time.perf_counter()
        result = search_users(viewer, [word])
        elapsed = (time.perf_counter() - start) * 1000
        times.append(elapsed)
        by_length.setdefault(len(word), []).append(elapsed)
        totals.append(result["totalCount"])
    with CaptureQueriesContext(connection) as queries:
        search_users(viewer, [words[0]])
    print(
        f"{len(times)} searches, {len(queries)} queries each; matches per search: median {sorted(totals)[len(totals) // 2]}, max {max(totals)}"
    )
    print(f"{'prefix length':>14} {'searches':>9} {'median ms':>10} {'p95 ms':>8}")
    for length in sorted(by_length):
        values = by_length[length]
        print(f"{length:>14} {len(values):>9} {percentile(values, 50):>10.2f} {percentile(values, 95):>8.2f}")
    print(f"{'all':>14} {len(times):>9} {percentile(times, 50):>10.2f} {percentile(times, 95):>8.2f}")
    if explain:
        for query in queries:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN ANALYZE " + query["sql"])
                print("\n".join(row[0] for row in cursor.fetchall()))
    return times


def drop_database(database_url):
    import psycopg
    from psycopg import sql

    admin, name = stack._admin_url(database_url)
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    print(f"dropped database {name}")


def on_scratch_database(database_url, keep, work):
    """Run ``work()`` on a freshly migrated ``database_url``, dropped afterwards unless ``keep``."""
    setup_django(database_url)
    try:
        work()
    finally:
        if not keep:
            from django.db import connections

            connections.close_all()
            drop_database(database_url)


def main(argv=None):
    args = parse_args(argv)

    def work():
        start = time.perf_counter()
        load_users(args.users)
        print(f"loaded {args.users} users in {time.perf_counter() - start:.1f} s")
        measure(args.searches, args.seed, explain=args.explain)

    on_scratch_database(args.database_url, args.keep, work)


if __name__ == "__main__":
    main()
