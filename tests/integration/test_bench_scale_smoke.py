"""The reconnect storm and the live room (bench/scale.py, issue 10 item 2) in their
smallest form, on the real stack (PostgreSQL, Redis, two Daphne processes on loopback):
so that the two loads cannot rot, and so that what they check is checked in every run.

The storm restarts one of the two Daphne processes while the other's clients send: every
client of the restarted one must reconnect and catch up through ``sync`` (some messages
reach their receiver only from a sync page), and no acked message may be missing at its
receiver. The live room: every member's socket gets every message.
"""

import json
import re

import pytest

from tests.integration.conftest import drop_database, unique_name
from tests.integration.test_bench_smoke import with_db
from tests.servers import child_env, run_python

pytestmark = pytest.mark.integration


def scale_run(postgres_url, redis_url, tmp_path, *args):
    db = unique_name("chat_bench_scale")
    out = tmp_path / "result.json"
    command = [
        "-m",
        "bench.run",
        *args,
        "--quiet-timeout=0",
        f"--database-url={postgres_url}/{db}",
        f"--redis-url={with_db(redis_url, 7)}",
        f"--json={out}",
    ]
    try:
        done = run_python(command, child_env(unset=("DATABASE_URL", "REDIS_URL")), timeout=240)
    finally:
        drop_database(postgres_url, db)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return json.loads(out.read_text()), done.stdout


@pytest.mark.parametrize(
    ("processes", "held"), [(2, True), (1, True), (2, False)], ids=["held-socket", "one-client-process", "port-closed"]
)
def test_a_restarted_daphnes_clients_catch_up_through_sync_and_nothing_is_missing(
    postgres_url, redis_url, tmp_path, processes, held
):
    """A's clients in a second client process (the default), or in the bench's own. Each
    Daphne serves a listening socket held across the restart (as deploy/systemd's socket
    unit does: A's clients wait for the new process, none is refused or moves to B), or
    binds its own port, closed while A restarts (its clients fail over to B)."""
    one = ["--storm-one-client"] if processes == 1 else []
    closed = [] if held else ["--storm-port-closed"]
    results, printed = scale_run(
        postgres_url, redis_url, tmp_path, "--only=storm", "--storm-clients=30", "--storm-rate=20", "--duration=6", *one, *closed
    )
    storm = results["storm"]
    assert storm["client_processes"] == processes and storm["held_socket"] == held
    assert storm["connected"] == 30
    assert storm["sent"] > 60 and storm["acked"] == storm["sent"]
    assert storm["restarted_clients"] == 15 and storm["all_caught_up"] and storm["caught_up"] == 15
    assert 0 < storm["storm_s"] < 30
    assert storm["from_sync"] > 0  # the restart was felt: some messages came only through sync
    assert storm["missing"] == 0
    assert storm["server_tracebacks"] == 0 and storm["errors"] == {}
    if held:  # A refused nobody: every client waited in its socket's queue for the new process
        assert storm["failed_attempts"] == 0 and storm["moved_to_b"] == 0
        assert "listening socket held across the restart" in printed
    else:  # nothing listened while A restarted: its clients went on to B
        assert storm["failed_attempts"] + storm["moved_to_b"] > 0
        assert "port closed during the restart" in printed
    assert re.search(
        r"its 15 clients caught up through sync \(after \d+ failed attempts; through failover, \d+ of them now on B; "
        r"[a-z ]+; \d client process(es)?\): 15 in",
        printed,
    )


def test_every_member_of_a_live_room_gets_every_message(postgres_url, redis_url, tmp_path):
    results, printed = scale_run(
        postgres_url, redis_url, tmp_path, "--only=liveroom", "--room-sockets=60", "--room-rate=4", "--duration=3"
    )
    room = results["liveroom"]
    assert room["connected"] == 60 and room["messages"] >= 12
    assert room["reach"] == 100.0 and room["complete_messages"] == room["messages"]
    assert room["last_p99"] is not None and room["last_p99"] > 0
    assert room["server_tracebacks"] == 0 and room["errors"] == {}
    assert "reach 100.00 %" in printed
