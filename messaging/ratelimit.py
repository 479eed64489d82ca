"""Rate limits: the per-group send rate and the priorities it sheds, and the per-sender
budgets (sends per user and per network address, expensive ops, uploads).

**The group's rate.** The SDK documents a per-group limit (40 messages a second by
default, ``conf`` ``GROUP_SEND_RATE``) over which "higher-priority messages are
delivered first". Here each group has a budget of ``rate`` messages per one-second
window, counted across every server process, and each priority may use only part of it:

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
group actions post and C2C messages are not. Windows are fixed seconds
(``int(clock())``): simple and one counter per group, at the price of letting up to
twice the rate through around a window boundary.

**A sender's budgets** are token buckets (``Bucket``): ``burst`` requests at once, then
``rate`` a second, so a person who pastes ten images or forwards a handful of messages
one by one is never stopped, while a script is held to the sustained rate. What a socket
(or an HTTP client) sends is counted per user and per network address (``Client``):

- sends over the WebSocket (stored and ``onlineUserOnly`` messages, every priority):
  ``SEND_RATE_PER_USER`` / ``SEND_BURST_PER_USER`` and ``..._PER_ADDRESS``;
- the ops in ``BUDGETED_OPS`` (directory searches, creating and joining groups, friend
  requests): ``OP_RATE_PER_USER`` / ``OP_BURST_PER_USER``, one budget for all of them;
- upload creations (HTTP): ``UPLOAD_RATE_PER_USER`` / ``..._PER_ADDRESS``.

Over a budget the request gets **10006** ("operation frequency limit", the vendor's
server code for a caller that is too frequent; the SDK documents no per-user C2C message
rate of its own, TIM.md §7) and nothing is done; over HTTP the answer is 429. Only
requests made by people are counted: the server REST API, the admin and management
commands call the actions without a ``Client`` and are limited by nothing here but the
group's rate. Addresses in ``RATE_LIMIT_EXEMPT_ADDRESSES`` (loopback by default: the
benches and the tests run many users from it, and so does a proxy that is not declared
with ``CHAT_PROXY_COUNT``) have no per-address budget; their users still have theirs.
An IPv6 address is counted by its /64, which one host usually holds whole.

**One round trip.** A group send's check of the group's window and of the sender's two
buckets is one call (``RateLimit.check``): all are read, and only if every one admits the
request are they all taken, so a refused request uses up nothing. Counters live in
Redis when ``settings.REDIS_URL`` is set (every Daphne shares them: one Lua script per
check, one EVALSHA) and in this process's memory otherwise (the embedded
single-process default). If Redis cannot be reached, the request is admitted: the limits
protect the service, they must not take sending down with them.

Why not the ``limits`` library (which has token-less moving and sliding windows over
Redis and memory): it checks one limit per call, so a group send from a socket would
cost three Redis round trips instead of one, and each ``hit`` takes from its limit on its
own, so a request that the second limit refuses has already used up the first. The
group's window with its priority shares is not one of its strategies either.
"""

import contextlib
import contextvars
import ipaddress
import logging
import math
import threading
import time
from dataclasses import dataclass

import redis
from django.conf import settings

from messaging import conf, runtime
from messaging.errors import ChatError, ErrorCode

log = logging.getLogger(__name__)

# The share of the group's rate that each priority may use in one window (None: no limit).
PRIORITY_SHARE = {"High": None, "Normal": 1.0, "Low": 0.75, "Lowest": 0.5}

# A group's window counter outlives its second by this much (clocks of processes differ a little).
KEY_TTL_SECONDS = 5

# The ops that share one per-user budget on the socket (OP_RATE_PER_USER): each costs a
# search over many rows, or creates rows other people see (groups, requests).
BUDGETED_OPS = frozenset(
    {"searchCloudUsers", "searchCloudMessages", "getPublicGroupList", "searchGroupByID", "createGroup", "joinGroup", "addFriend"}
)


def priority_threshold(rate, priority):
    """How many messages a window may already hold for ``priority`` to be admitted (None: any)."""
    share = PRIORITY_SHARE[priority]
    return None if share is None else max(1, round(rate * share))


@dataclass(frozen=True)
class Window:
    """A group's fixed one-second window: admitted while it holds fewer than ``threshold``
    (None: always, but still counted)."""

    key: str
    second: int
    threshold: int | None


@dataclass(frozen=True)
class Bucket:
    """A token bucket: it holds at most ``burst`` tokens and gains ``rate`` a second; an
    admitted request takes one. ``what`` names it in the refusal."""

    key: str
    rate: float
    burst: int
    what: str

    def level(self, tokens, stamp, now):
        """The tokens now, from those at ``stamp`` (a new bucket is full)."""
        if tokens is None:
            return float(self.burst)
        return min(float(self.burst), tokens + max(0.0, now - stamp) * self.rate)

    @property
    def ttl(self):
        """Seconds after which an untouched bucket is full again (and can be forgotten)."""
        return math.ceil(self.burst / self.rate) + 1


class MemoryCounter:
    """Per-process counters: windows {key: (second, admitted)} and buckets {key: (tokens,
    stamp, when it is full again)}. Thread-safe (database threads send)."""

    PRUNE_ABOVE = 10_000

    def __init__(self):
        self._counts = {}
        self._buckets = {}
        self._lock = threading.Lock()

    def check(self, window, buckets, now):
        """None when every one admits (and then each is taken), else the first that refuses."""
        with self._lock:
            levels = []
            for bucket in buckets:
                level = bucket.level(*self._buckets.get(bucket.key, (None, 0.0))[:2], now)
                if level < 1:
                    return bucket
                levels.append(level)
            if window is not None:
                second, admitted = self._counts.get(window.key, (window.second, 0))
                if second != window.second:
                    admitted = 0
                if window.threshold is not None and admitted >= window.threshold:
                    return window
                self._counts[window.key] = (window.second, admitted + 1)
            for bucket, level in zip(buckets, levels, strict=True):
                self._buckets[bucket.key] = (level - 1, now, now + bucket.ttl)
            self._prune(window, buckets, now)
            return None

    def _prune(self, window, buckets, now):
        if window is not None and len(self._counts) > self.PRUNE_ABOVE:
            self._counts = {k: v for k, v in self._counts.items() if v[0] >= window.second}
        if buckets and len(self._buckets) > self.PRUNE_ABOVE:
            # A bucket that is full again is the same as no bucket: forget it.
            self._buckets = {k: v for k, v in self._buckets.items() if v[2] > now}

    def take(self, key, second, threshold):
        """The group's window alone (tests and the bench)."""
        return self.check(Window(key, second, threshold), (), 0.0) is None

    def clear(self):
        with self._lock:
            self._counts.clear()
            self._buckets.clear()


# KEYS[1..n]: the buckets, then the group's window counter if there is one (KEYS[n+1]).
# ARGV[1]: now; ARGV[2]: the window's threshold (-1: none); ARGV[3]: the window's TTL;
# then per bucket: rate, burst, TTL. Returns 0 when every one admits (and takes each),
# i (1..n) when bucket i refuses, n+1 when the window does.
CHECK_SCRIPT = """
local n = (#ARGV - 3) / 3
local now = tonumber(ARGV[1])
local levels = {}
for i = 1, n do
  local rate, burst = tonumber(ARGV[1 + 3 * i]), tonumber(ARGV[2 + 3 * i])
  local state = redis.call('HMGET', KEYS[i], 't', 's')
  local level = burst
  if state[1] then
    level = math.min(burst, tonumber(state[1]) + math.max(0, now - tonumber(state[2])) * rate)
  end
  if level < 1 then return i end
  levels[i] = level
end
local window = KEYS[n + 1]
if window then
  local threshold = tonumber(ARGV[2])
  if threshold >= 0 and tonumber(redis.call('GET', window) or '0') >= threshold then return n + 1 end
  if redis.call('INCR', window) == 1 then redis.call('EXPIRE', window, ARGV[3]) end
end
for i = 1, n do
  redis.call('HSET', KEYS[i], 't', tostring(levels[i] - 1), 's', ARGV[1])
  redis.call('EXPIRE', KEYS[i], ARGV[3 + 3 * i])
end
return 0
"""


class RedisCounter:
    """Counters shared by every process: one EVALSHA per check.

    Each thread sends it on a connection of its own (``_connection``), with redis-py's
    ``Connection`` alone: its client's pool, retry and script wrappers around one command
    took as much CPU again as the command (77-115 against 39 µs a check, measured with
    both on one machine; a socket's send is one check, docs/PERFORMANCE.md, the ninth
    sitting). A script Redis does not know (restarted, flushed) is loaded and sent again."""

    def __init__(self, url, prefix):
        self.prefix = prefix
        self.client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        self._sha = self.client.register_script(CHECK_SCRIPT).sha
        self._local = threading.local()

    def _connection(self) -> redis.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self.client.connection_pool.make_connection()
        return connection

    def _check(self, keys, args):
        """The script's answer. A connection that fails is closed by redis-py and made
        again by the next command."""
        connection = self._connection()
        try:
            connection.send_command("EVALSHA", self._sha, len(keys), *keys, *args)
            return connection.read_response()
        except redis.exceptions.NoScriptError:
            connection.send_command("SCRIPT", "LOAD", CHECK_SCRIPT)
            connection.read_response()
            connection.send_command("EVALSHA", self._sha, len(keys), *keys, *args)
            return connection.read_response()

    def check(self, window, buckets, now):
        keys = [self.prefix + bucket.key for bucket in buckets]
        args = [repr(float(now)), -1, KEY_TTL_SECONDS]
        if window is not None:
            keys.append(f"{self.prefix}{window.key}:{window.second}")
            args[1] = -1 if window.threshold is None else window.threshold
        for bucket in buckets:
            args += [repr(float(bucket.rate)), bucket.burst, bucket.ttl]
        try:
            refused = self._check(keys, args)
        except redis.RedisError as error:
            log.warning("rate limits not checked (Redis: %s)", error)
            return None
        if not refused:
            return None
        return buckets[refused - 1] if refused <= len(buckets) else window

    def take(self, key, second, threshold):
        return self.check(Window(key, second, threshold), (), 0.0) is None


class RateLimit:
    """The limits over a counter; ``clock`` (seconds) is replaceable so that tests are exact."""

    def __init__(self, counter, clock=time.time):
        self.counter = counter
        self.clock = clock

    def check(self, buckets=(), *, thread_id=None, priority=None, rate=None):
        """None when admitted (and counted), else the Window or Bucket that refused."""
        now = self.clock()
        window = None
        if thread_id is not None:
            window = Window(f"g{thread_id}", int(now), priority_threshold(rate, priority))
        if window is None and not buckets:
            return None
        return self.counter.check(window, tuple(buckets), now)

    def admit(self, thread_id, priority, rate):
        """The group's window alone: whether a message of ``priority`` may go now."""
        return self.check(thread_id=thread_id, priority=priority, rate=rate) is None


_limits = {}


def rate_limit():
    """This process's limits: Redis-backed when REDIS_URL is set, else in memory."""
    url = getattr(settings, "REDIS_URL", "")
    key = (url, conf.get("RATE_LIMIT_KEY_PREFIX"))
    limit = _limits.get(key)
    if limit is None:
        counter = RedisCounter(url, key[1]) if url else MemoryCounter()
        limit = _limits[key] = RateLimit(counter)
    return limit


def reset():
    """Forget this process's limits and their counters (tests; a changed REDIS_URL)."""
    _limits.clear()


# --- who is asking ----------------------------------------------------------------------


def address_key(address):
    """The per-address counter's name for ``address``, or None when it has no budget (unknown,
    or in RATE_LIMIT_EXEMPT_ADDRESSES). IPv6 is counted by its /64."""
    try:
        parsed = ipaddress.ip_address(address or "")
    except ValueError:
        return None
    if parsed.version == 6 and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    if str(parsed) in conf.get("RATE_LIMIT_EXEMPT_ADDRESSES"):
        return None
    if parsed.version == 6:
        return f"{ipaddress.ip_network(f'{parsed}/64', strict=False).network_address}/64"
    return str(parsed)


class RateLimited(ChatError):
    """Over a sender's budget: 10006 on the socket, HTTP 429 with the same body."""

    http_status = 429

    def __init__(self, message):
        super().__init__(ErrorCode.FREQUENCY_LIMIT, message)


@dataclass(frozen=True)
class Client:
    """Who makes a request, for their budgets: the user (pk) and the network address
    (``client_address``), as the socket or the HTTP request saw them."""

    user_pk: int
    address: str | None = None

    def buckets(self, kind):
        """The token buckets of ``kind``: "SEND" and "UPLOAD" per user and per address, "OP"
        per user, from conf's ``<kind>_RATE_PER_USER`` and ``<kind>_BURST_PER_USER`` (and
        ``..._PER_ADDRESS``). A rate of 0 turns that budget off."""
        found = [Bucket(f"{kind.lower()}:u{self.user_pk}", *_budget(kind, "USER"), what="user")]
        address = address_key(self.address) if kind != "OP" else None
        if address is not None:
            found.append(Bucket(f"{kind.lower()}:a{address}", *_budget(kind, "ADDRESS"), what="address"))
        return [bucket for bucket in found if bucket.rate > 0]


def _budget(kind, per):
    return float(conf.get(f"{kind}_RATE_PER_{per}")), conf.get(f"{kind}_BURST_PER_{per}")


def client_address(remote_addr, forwarded_for=""):
    """The client's address: the peer of the connection or, behind ``settings.CHAT_PROXY_COUNT``
    proxies, the address the outermost one saw: each proxy appends its peer to
    X-Forwarded-For, so that is the Nth entry from the right (entries further left are
    whatever the client claimed). A request with fewer entries did not come through the
    proxies: its peer is the client."""
    proxies = getattr(settings, "CHAT_PROXY_COUNT", 0)
    if proxies:
        entries = [entry.strip() for entry in (forwarded_for or "").split(",") if entry.strip()]
        if len(entries) >= proxies:
            return entries[-proxies]
    return remote_addr or None


def socket_address(scope):
    """``client_address`` of an ASGI WebSocket scope."""
    forwarded = ",".join(value.decode("latin-1") for name, value in scope.get("headers", ()) if name == b"x-forwarded-for")
    peer = scope.get("client") or (None,)
    return client_address(peer[0], forwarded)


def request_address(request):
    """``client_address`` of a Django request (also axes' address for login lockouts)."""
    return client_address(request.META.get("REMOTE_ADDR"), request.META.get("HTTP_X_FORWARDED_FOR", ""))


# The socket whose op is running in this thread (set by the consumer around each op):
# what ``check_send`` counts the sender by. None outside a socket's op (REST API, admin).
_current_client = contextvars.ContextVar("rate_limited_client", default=None)


@contextlib.contextmanager
def acting_as(client):
    """Run an op on behalf of ``client``: its sends are counted against its budgets."""
    token = _current_client.set(client)
    try:
        yield
    finally:
        _current_client.reset(token)


def _refusal(bucket, doing):
    whose = "you are" if bucket.what == "user" else "your network address is"
    return RateLimited(f"{whose} {doing} too fast: at most {bucket.burst} at once, then {bucket.rate:g} a second")


def check_send(thread_id=None, priority="Normal"):
    """Count a new message: the group's window (``thread_id``: a member's group send) and
    the sending socket's budgets (when an op of a socket is running), in one round trip.
    Raises 10023 when the group has no room left this second for ``priority``, 10006 when
    the sender is over a budget; nothing is counted then."""
    client = _current_client.get()
    buckets = client.buckets("SEND") if client is not None else ()
    rate = runtime.get("GROUP_SEND_RATE")
    refused = rate_limit().check(buckets, thread_id=thread_id, priority=priority, rate=rate)
    if refused is None:
        return
    if isinstance(refused, Window):
        raise ChatError(
            ErrorCode.GROUP_SEND_RATE_EXCEEDED,
            f"too many messages in this group: {priority} messages are shed above {priority_threshold(rate, priority)} a second",
        )
    raise _refusal(refused, "sending messages")


def check_op(client, op):
    """Count one of the ``BUDGETED_OPS`` against ``client``'s op budget: 10006 when used up."""
    if client is None or op not in BUDGETED_OPS:
        return
    refused = rate_limit().check(client.buckets("OP"))
    if refused is not None:
        raise _refusal(refused, "searching, creating groups or asking friends")


def check_upload(client):
    """Count an upload creation against ``client``'s upload budgets: 10006 / HTTP 429."""
    refused = rate_limit().check(client.buckets("UPLOAD"))
    if refused is not None:
        raise _refusal(refused, "starting uploads")
