"""The send-path bench's smoke form (issue 10 item 3): ``python -m bench.sendpath --smoke``
on PostgreSQL prints one row per path with the statements of one send, which are exact:
C2C 2 and a group send 2 (the peer or membership read, then one statement that numbers,
inserts and updates the conversation rows, committed alone: no BEGIN, no COMMIT), a pair's
first message 5 (BEGIN, the thread and conversation rows, the message, COMMIT;
docs/PERFORMANCE.md "Send path statements"). The database is the bench's own, with a
name of this run's (dropped at the end)."""

import re

import pytest

from tests.integration.conftest import drop_database, unique_name
from tests.servers import child_env, run_python

pytestmark = pytest.mark.integration

STATEMENTS = {"c2c": 2, "first": 5, "group": 2}


def test_the_sendpath_bench_smoke_prints_the_statements_of_each_path(postgres_url):
    name = unique_name("chat_bench_sendpath")
    try:
        done = run_python(
            ["-m", "bench.sendpath", "--smoke", "--members", "8", "--database-url", f"{postgres_url}/{name}"],
            child_env(unset={"DATABASE_URL", "REDIS_URL"}),
            timeout=300,
        )
    finally:
        drop_database(postgres_url, name)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = dict(re.findall(r"^(c2c|first|group)\s+(\d+)\s+[\d.]+$", done.stdout, re.MULTILINE))
    assert {path: int(n) for path, n in rows.items()} == STATEMENTS, done.stdout
