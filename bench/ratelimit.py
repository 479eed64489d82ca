"""What the rate limits (messaging/ratelimit.py) add to each send: the group's window
alone (a group send from the REST API), and the group's window with the sender's two
send budgets (a group send from a socket), against the in-memory counter and against
Redis (one EVALSHA round trip either way), timed one by one (docs/PERFORMANCE.md).

    .venv/bin/python -m bench.ratelimit [--checks 20000] [--redis redis://127.0.0.1:6379/0]

The Redis keys go under a random prefix and expire within seconds.
"""

import argparse
import os
import secrets
import statistics
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
django.setup()

from messaging import ratelimit  # noqa: E402


def timed_checks(limit, checks, budgets=False):
    """Microseconds per check; rates high enough that nothing is refused (the common case).
    With ``budgets``, each check also takes from a user's and an address's bucket."""
    times = []
    for i in range(checks):
        buckets = []
        if budgets:
            buckets = [
                ratelimit.Bucket(f"send:u{i % 200}", 1e9, 10**9, what="user"),
                ratelimit.Bucket(f"send:a10.0.{i % 7}.1", 1e9, 10**9, what="address"),
            ]
        start = time.perf_counter()
        limit.check(buckets, thread_id=i % 50, priority="Normal", rate=10**9)
        times.append((time.perf_counter() - start) * 1e6)
    return times


def report(name, times):
    times = sorted(times)
    pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]  # noqa: E731
    print(
        f"{name:<18} mean {statistics.fmean(times):7.1f} µs   p50 {pick(0.5):7.1f}   p99 {pick(0.99):7.1f}   ({len(times)} checks)"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=20000)
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args()
    report("memory, group", timed_checks(ratelimit.RateLimit(ratelimit.MemoryCounter()), args.checks))
    report("memory, +2 buckets", timed_checks(ratelimit.RateLimit(ratelimit.MemoryCounter()), args.checks, True))
    counter = ratelimit.RedisCounter(args.redis, f"bench_rl_{secrets.token_hex(4)}:")
    counter.client.ping()
    timed_checks(ratelimit.RateLimit(counter), 100)  # connect, load the script
    report("redis, group", timed_checks(ratelimit.RateLimit(counter), args.checks))
    report("redis, +2 buckets", timed_checks(ratelimit.RateLimit(counter), args.checks, True))


if __name__ == "__main__":
    main()
