"""What the group send rate limit (messaging/ratelimit.py) adds to each group send:
one check against the in-memory counter, and one against Redis (one EVALSHA round
trip), timed one by one (docs/PERFORMANCE.md).

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


def timed_checks(limit, checks):
    """Microseconds per ``admit``; rate high enough that nothing is shed (the common case)."""
    times = []
    for i in range(checks):
        start = time.perf_counter()
        limit.admit(i % 50, "Normal", 10**9)
        times.append((time.perf_counter() - start) * 1e6)
    return times


def report(name, times):
    times = sorted(times)
    pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]  # noqa: E731
    print(
        f"{name:<8} mean {statistics.fmean(times):7.1f} µs   p50 {pick(0.5):7.1f}   p99 {pick(0.99):7.1f}   ({len(times)} checks)"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=20000)
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args()
    report("memory", timed_checks(ratelimit.RateLimit(ratelimit.MemoryCounter()), args.checks))
    counter = ratelimit.RedisCounter(args.redis, f"bench_rl_{secrets.token_hex(4)}:")
    counter.client.ping()
    timed_checks(ratelimit.RateLimit(counter), 100)  # connect, load the script
    report("redis", timed_checks(ratelimit.RateLimit(counter), args.checks))


if __name__ == "__main__":
    main()
