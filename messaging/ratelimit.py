"""The per-group send rate limit, and the message priorities it sheds by.

The SDK documents a per-group limit (40 messages a second by default, ``conf``
``GROUP_SEND_RATE``) over which "higher-priority messages are delivered first". Here
each group has a budget of ``rate`` messages per one-second window, counted across
every server process, and each priority may use only part of it:

==========  ===========================  ===========================
priority    admitted while this window   at the default rate (40/s)
            has admitted fewer than
==========  ===========================  ===========================
High        no limit                     always
Normal      100 % of the rate            40
Low         75 %                         30
Lowest      50 %                         20
==========  ===========================  ===========================

So as a group's load rises, ``Lowest`` is shed first, then ``Low``, then ``Normal``;
``High`` always goes through but uses up the budget, so a burst of High messages
sheds the others. Only admitted messages count: a flood of shed ``Lowest`` messages
does not eat the budget of ``Normal`` ones. A shed message gets 10023 and nothing is
stored. Only members' group sends are limited (``actions.send_message``); tips the
group actions post and C2C messages are not.

Windows are fixed seconds (``int(clock())``): simple and one counter per group, at
the price of letting up to twice the rate through around a window boundary.

Counters live in Redis when ``settings.REDIS_URL`` is set (every Daphne shares them;
one round trip per group send: a Lua script that reads, compares and increments) and
in this process's memory otherwise (the embedded single-process default). If Redis
cannot be reached, the send is admitted: the limit protects the service, it must not
take sending down with it.
"""

import logging
import threading
import time

import redis
from django.conf import settings

from messaging import conf, runtime
from messaging.errors import ChatError, ErrorCode

log = logging.getLogger(__name__)

# The share of the group's rate that each priority may use in one window (None: no limit).
PRIORITY_SHARE = {"High": None, "Normal": 1.0, "Low": 0.75, "Lowest": 0.5}

# A counter outlives its one-second window by this much (clocks of processes differ a little).
KEY_TTL_SECONDS = 5


def priority_threshold(rate, priority):
    """How many messages a window may already hold for ``priority`` to be admitted (None: any)."""
    share = PRIORITY_SHARE[priority]
    return None if share is None else max(1, round(rate * share))


class MemoryCounter:
    """Per-process counters: {key: (window, admitted)}. Thread-safe (database threads send)."""

    PRUNE_ABOVE = 10_000

    def __init__(self):
        self._counts = {}
        self._lock = threading.Lock()

    def take(self, key, window, threshold):
        with self._lock:
            current, admitted = self._counts.get(key, (window, 0))
            if current != window:
                admitted = 0
            if threshold is not None and admitted >= threshold:
                return False
            self._counts[key] = (window, admitted + 1)
            if len(self._counts) > self.PRUNE_ABOVE:
                self._counts = {k: v for k, v in self._counts.items() if v[0] >= window}
            return True

    def clear(self):
        with self._lock:
            self._counts.clear()


# KEYS[1]: the group's counter for this window; ARGV[1]: threshold (-1: none); ARGV[2]: TTL.
TAKE_SCRIPT = """
local admitted = tonumber(redis.call('GET', KEYS[1]) or '0')
local threshold = tonumber(ARGV[1])
if threshold >= 0 and admitted >= threshold then return 0 end
if redis.call('INCR', KEYS[1]) == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 1
"""


class RedisCounter:
    """Counters shared by every process: one EVALSHA per call (redis-py loads the script once)."""

    def __init__(self, url, prefix):
        self.prefix = prefix
        self.client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        self._take = self.client.register_script(TAKE_SCRIPT)

    def take(self, key, window, threshold):
        try:
            return bool(
                self._take(keys=[f"{self.prefix}{key}:{window}"], args=[-1 if threshold is None else threshold, KEY_TTL_SECONDS])
            )
        except redis.RedisError as error:
            log.warning("group rate limit not checked (Redis: %s)", error)
            return True


class GroupRateLimit:
    """The limit over a counter; ``clock`` (seconds) is replaceable so that tests are exact."""

    def __init__(self, counter, clock=time.time):
        self.counter = counter
        self.clock = clock

    def admit(self, thread_id, priority, rate):
        return self.counter.take(f"g{thread_id}", int(self.clock()), priority_threshold(rate, priority))


_limits = {}


def group_rate_limit():
    """This process's limit: Redis-backed when REDIS_URL is set, else in memory."""
    url = getattr(settings, "REDIS_URL", "")
    limit = _limits.get(url)
    if limit is None:
        counter = RedisCounter(url, conf.get("RATE_LIMIT_KEY_PREFIX")) if url else MemoryCounter()
        limit = _limits[url] = GroupRateLimit(counter)
    return limit


def reset():
    """Forget this process's limits and their counters (tests; a changed REDIS_URL)."""
    _limits.clear()


def check_group_send(thread_id, priority):
    """Raise 10023 when the group has no room left this second for a message of ``priority``."""
    rate = runtime.get("GROUP_SEND_RATE")
    if not group_rate_limit().admit(thread_id, priority, rate):
        raise ChatError(
            ErrorCode.GROUP_SEND_RATE_EXCEEDED,
            f"too many messages in this group: {priority} messages are shed above {priority_threshold(rate, priority)} a second",
        )
