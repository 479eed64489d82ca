"""The in-process benches' smoke forms (issue 10), on PostgreSQL, each on a bench
database with a name of this run's (dropped at the end). Each prints one row per path
with the statements of one call, which are exact.

``python -m bench.sendpath --smoke``: C2C 2 and a group send 2 (the peer or membership
read, then one statement that numbers, inserts and updates the conversation rows,
committed alone: no BEGIN, no COMMIT), and a pair's first message 2 too (the peer read,
then one statement that makes the thread, the message and both conversation rows;
docs/PERFORMANCE.md "Send path statements").

``python -m bench.catchup --smoke`` (the reads of a reconnecting socket,
docs/PERFORMANCE.md "the reconnect storm's queues"): the handshake's session and user 2;
the state at connect 3 (the user, the unread state, the group threads; the run-time
settings are cached); a sync from cursors with one C2C conversation changed 8 (the
conversations, the changes, the reactions of the one message, and on the last page the
conversation list: the join-order setting, its rows, the setting put back, the group
mentions; and the group list)."""

import re

import pytest

from tests.integration.conftest import drop_database, unique_name
from tests.servers import child_env, run_python

pytestmark = pytest.mark.integration


def smoke_rows(postgres_url, module, *args):
    name = unique_name(f"chat_bench_{module}")
    try:
        done = run_python(
            ["-m", f"bench.{module}", "--smoke", *args, "--database-url", f"{postgres_url}/{name}"],
            child_env(unset={"DATABASE_URL", "REDIS_URL"}),
            timeout=300,
        )
    finally:
        drop_database(postgres_url, name)
    assert done.returncode == 0, done.stderr[-3000:]
    return {row: int(n) for row, n in re.findall(r"^(\w+)\s+(\d+)\s+[\d.]+$", done.stdout, re.MULTILINE)}, done.stdout


def test_the_sendpath_bench_smoke_prints_the_statements_of_each_path(postgres_url):
    rows, output = smoke_rows(postgres_url, "sendpath", "--members", "8")
    assert rows == {"c2c": 2, "first": 2, "group": 2}, output


def test_the_catchup_bench_smoke_prints_the_statements_of_each_read(postgres_url):
    rows, output = smoke_rows(postgres_url, "catchup", "--conversations", "8")
    assert rows == {"auth": 2, "state": 3, "sync": 8}, output
