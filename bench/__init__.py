"""Load, latency and query benchmarks of the chat server (issue #2, item 7).

``python -m bench.run`` (``make bench``) starts the production stack (PostgreSQL,
channels-redis, Daphne) on loopback, drives it with WebSocket clients and times the
list queries on a large seeded data set. Not a test: it prints a table. Results and
commands are recorded in ``docs/PERFORMANCE.md``.
"""
