"""The ratio bench's smoke form (issue 10 item 4): ``python -m bench.run --vs-floor --smoke``
builds the stack floor, runs every load of the ratio bench on floor and product with tiny
sizes (PostgreSQL, Redis, the pub/sub layer, real Daphne processes on loopback) and prints
the one table, with every row. It runs in ``make test`` so that the bench cannot rot.

The databases are the test's own (dropped at the end); Redis dbs 7 and 9 are the bench's
(flushed before each run, as the bench does); the channel-layer prefixes carry the bench's
process ID, so a parallel run never sees this one's events.
"""

import re
import subprocess
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.integration.conftest import drop_database, unique_name
from tests.servers import REPO_ROOT, child_env, run_python

pytestmark = pytest.mark.integration

ROWS = [
    f"C2C, {pairs}, {n} Daphne: {metric}"
    for n in (1, 2)
    for pairs in ("existing pairs", "every pair new")
    for metric in (
        "highest rate with p99 ≤ 250 ms and reach 100 % (msg/s)",
        "p99 at 10 msg/s (ms)",
        "Daphne CPU per message at 10 msg/s (ms)",
        "PostgreSQL CPU per message at 10 msg/s (ms)",
    )
] + [
    "mixed, half into a 3-member group, 1 Daphne: highest rate with p99 ≤ 250 ms and reach 100 % (msg/s)",
    "fan-out, 1 message/s to 8 online members, 1 Daphne: p50 over deliveries (ms)",
    "fan-out, 1 message/s to 8 online members, 1 Daphne: p99 over deliveries (ms)",
    "fan-out, 1 message/s to 8 online members, 1 Daphne: to the last member, median over messages (ms)",
    "RSS per idle socket, 100 sockets, 1 Daphne (KiB)",
]
FIGURE = re.compile(r"^(≥ |< )?-?\d+(\.\d+)?( \*)?$")  # RSS may shrink a little on a busy machine
RUN = re.compile(r": (floor|product) +sent (\d+) acked (\d+) p99 \S+ ms reach ([\d.-]+) % errors (\d+)")
IDLE = re.compile(r": (floor|product) +(\d+)/(\d+) sockets")
RATIO = re.compile(r"^(\d+\.\d\d|refused: machine not quiet|n/a: .+|-)$")


def with_db(url, db):
    return urlunsplit(urlsplit(url)._replace(path=f"/{db}"))


def table_rows(output):
    """{metric: [floor, product, ratio]} of the printed table."""
    rows = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 4 and cells[0] not in ("metric",) and not set(cells[0]) <= {"-"}:
            rows[cells[0]] = cells[1:]
    return rows


def test_the_ratio_bench_smoke_prints_every_row(postgres_url, redis_url):
    product_db, floor_db = unique_name("chat_bench_smoke"), unique_name("floor_bench_smoke")
    command = [
        "-m",
        "bench.run",
        "--vs-floor",
        "--smoke",
        f"--database-url={postgres_url}/{product_db}",
        f"--floor-database-url={postgres_url}/{floor_db}",
        f"--redis-url={with_db(redis_url, 7)}",
        f"--floor-redis-url={with_db(redis_url, 9)}",
    ]
    try:
        done = run_python(command, child_env(unset=("DATABASE_URL", "REDIS_URL")), timeout=280)
    finally:
        drop_database(postgres_url, product_db)
        drop_database(postgres_url, floor_db)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True).stdout
    assert f"commit measured: {commit.strip()}" in done.stdout
    rows = table_rows(done.stdout)
    assert list(rows) == ROWS, done.stdout[-4000:]
    for metric, (floor, product, ratio) in rows.items():
        assert FIGURE.match(floor) and FIGURE.match(product), (metric, floor, product, done.stdout[-6000:])
        assert RATIO.match(ratio), (metric, ratio, done.stdout[-6000:])
        if floor.endswith("*") or product.endswith("*"):  # a disturbed run behind a figure: no ratio
            assert ratio in ("refused: machine not quiet", "-"), (metric, ratio)
    # Every run worked on both sides (a broken op would still print a figure: "< 10").
    runs = RUN.findall(done.stdout)
    assert len(runs) == 2 * (4 + 1 + 1), done.stdout[-6000:]  # 4 C2C loads, mixed, fan-out; each side once
    for side, sent, acked, reach, errors in runs:
        assert int(sent) > 0 and acked == sent and reach == "100.00" and errors == "0", (side, sent, acked, reach, errors)
    idle = IDLE.findall(done.stdout)
    assert sorted(side for side, _, _ in idle) == ["floor", "product"] and all(a == b for _, a, b in idle), idle
    assert "Traceback" not in output, output[-4000:]
    assert "tracebacks" not in done.stdout, done.stdout[-4000:]
