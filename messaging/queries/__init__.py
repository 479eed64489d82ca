"""Reads with a fixed number of SQL queries whatever the data size (tests pin the counts)."""

from contextlib import contextmanager

from django.db import connection


@contextmanager
def joins_in_written_order():
    """Run the queries inside with PostgreSQL joining the tables in the order the query
    names them (``join_collapse_limit = 1``), for a query whose joins all follow foreign
    keys from one driving table, so that the written order is the best one.

    The conversation list joins ten tables (thread, peer, group, its owner and thread, the
    last message, its sender and revoker): PostgreSQL spends ~8 ms choosing among the
    orders of its left joins, ten times the 0.4–0.8 ms the query then runs (EXPLAIN
    ANALYZE on the bench database, docs/PERFORMANCE.md). Two statements more, each a
    round trip of ~0.1 ms; the setting is put back even when the query fails, so a pooled
    connection never keeps it."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET join_collapse_limit = 1")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET join_collapse_limit")
