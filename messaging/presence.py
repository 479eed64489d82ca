"""Who is online, across every server process: the store behind getUserStatus and
USER_STATUS_UPDATED (docs/PROTOCOL.md §5, "Presence"; docs/ARCHITECTURE.md).

A user is online while any of their tabs has a socket on any Daphne, and for
``PRESENCE_GRACE`` seconds after the last one closed (a page reload is not "offline").
The store keeps, per user:

- their live sockets, each with an expiry (``now + PRESENCE_SOCKET_TTL``) that the
  socket's process pushes forward every ``PRESENCE_REFRESH`` seconds for all its sockets;
  a SIGKILLed process stops doing so, and its sockets lapse on their own;
- a **deadline**: the latest socket expiry, or, once the last socket closed, the
  close time + grace. **A user is online exactly while their deadline is in the future**:
  that is what every lookup reads (one ``ZMSCORE`` for any number of users);
- the *announced* state (what subscribers were last told), the custom status text and
  the last-seen time (the last connect, refresh or close).

Events: a connect that finds the announced state offline (or the deadline already
passed: nobody has swept it yet) announces "online". Every
process sweeps every ``PRESENCE_SWEEP`` seconds for users whose deadline passed and
*settles* each one atomically (a Lua script, so two processes never both announce it):
if a live socket remains, the deadline moves to its expiry; otherwise the user is
announced offline. So a reconnect within the grace emits nothing, and a crashed
process's users go offline within ``PRESENCE_SOCKET_TTL + PRESENCE_SWEEP`` seconds.

The store lives in Redis when ``settings.REDIS_URL`` is set (every Daphne shares it) and
in this process's memory otherwise (the embedded single-process default), as
``messaging/ratelimit.py`` does. Calls are synchronous (redis-py); consumers run them
off the event loop.
"""

import asyncio
import logging
import threading
import time
from dataclasses import dataclass

import redis
from asgiref.sync import sync_to_async
from django.conf import settings

from messaging import conf

log = logging.getLogger(__name__)

# The SDK's TIM.TYPES.USER_STATUS_* values.
STATUS_UNKNOWN = 0
STATUS_ONLINE = 1
STATUS_OFFLINE = 2
STATUS_UNLOGINED = 3  # never connected (or nothing is known of them)


@dataclass(frozen=True)
class Status:
    online: bool
    custom_status: str
    last_seen: float | None  # epoch seconds; None: never seen

    @property
    def status_type(self):
        if self.online:
            return STATUS_ONLINE
        return STATUS_OFFLINE if self.last_seen is not None else STATUS_UNLOGINED


class MemoryPresence:
    """The single-process store. Thread-safe: consumers call it from worker threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self._sockets = {}  # pk -> {socket: expiry}
        self._deadline = {}  # pk -> deadline
        self._announced = set()  # pks announced online
        self._custom = {}
        self._seen = {}
        self._names = {}

    def connect(self, pk, user_id, socket, now, ttl, max_sockets=0):
        """Register a socket; whether the user is to be announced online, or None (nothing
        registered) when the user has ``max_sockets`` live sockets already (0: no cap)."""
        with self._lock:
            live = [s for s, expiry in self._sockets.get(pk, {}).items() if expiry > now and s != socket]
            if max_sockets and len(live) >= max_sockets:
                return None
            self._names[pk] = user_id
            lapsed = self._deadline.get(pk, 0) <= now
            expiry = now + ttl
            self._sockets.setdefault(pk, {})[socket] = expiry
            self._deadline[pk] = max(self._deadline.get(pk, 0), expiry)
            self._seen[pk] = now
            if pk in self._announced and not lapsed:
                return False
            self._announced.add(pk)
            return True

    def refresh(self, entries, now, ttl):
        """Push the expiry of these ``(pk, socket)`` forward (only sockets still registered)."""
        with self._lock:
            for pk, socket in entries:
                sockets = self._sockets.get(pk)
                if sockets and socket in sockets:
                    sockets[socket] = now + ttl
                    self._deadline[pk] = max(self._deadline.get(pk, 0), now + ttl)
                    self._seen[pk] = now

    def disconnect(self, pk, socket, now, grace):
        with self._lock:
            sockets = self._sockets.get(pk, {})
            sockets.pop(socket, None)
            for name in [s for s, expiry in sockets.items() if expiry <= now]:
                del sockets[name]
            self._seen[pk] = now
            if not sockets:
                self._sockets.pop(pk, None)
                self._deadline[pk] = now + grace

    def due(self, now, limit=500):
        with self._lock:
            return [pk for pk, deadline in self._deadline.items() if deadline <= now][:limit]

    def settle(self, pk, now):
        """``(last seen, userID)`` if the user is to be announced offline now, else None."""
        with self._lock:
            sockets = self._sockets.get(pk, {})
            for name in [s for s, expiry in sockets.items() if expiry <= now]:
                del sockets[name]
            if sockets:
                self._deadline[pk] = max(sockets.values())
                return None
            self._sockets.pop(pk, None)
            deadline = self._deadline.get(pk)
            if deadline is not None and deadline > now:
                return None
            self._deadline.pop(pk, None)
            if pk not in self._announced:
                return None
            self._announced.discard(pk)
            return self._seen.get(pk, now), self._names.get(pk, "")

    def statuses(self, pks, now):
        with self._lock:
            return [Status(self._deadline.get(pk, 0) > now, self._custom.get(pk, ""), self._seen.get(pk)) for pk in pks]

    def online_count(self, pks, now):
        with self._lock:
            return sum(1 for pk in pks if self._deadline.get(pk, 0) > now)

    def set_custom_status(self, pk, text):
        with self._lock:
            if text:
                self._custom[pk] = text
            else:
                self._custom.pop(pk, None)


# KEYS: sockets(pk), deadline, announced, seen, names. ARGV: socket, expiry, pk, now, key ttl,
# userID, max sockets (0: no cap). -1: refused (the user has that many live sockets already).
CONNECT_SCRIPT = """
local cap = tonumber(ARGV[7])
if cap > 0 and not redis.call('ZSCORE', KEYS[1], ARGV[1])
   and redis.call('ZCOUNT', KEYS[1], '(' .. ARGV[4], '+inf') >= cap then return -1 end
local deadline = redis.call('ZSCORE', KEYS[2], ARGV[3])
local lapsed = (not deadline) or tonumber(deadline) <= tonumber(ARGV[4])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], 'GT', ARGV[2], ARGV[3])
redis.call('HSET', KEYS[4], ARGV[3], ARGV[4])
redis.call('HSET', KEYS[5], ARGV[3], ARGV[6])
if redis.call('HGET', KEYS[3], ARGV[3]) == '1' and not lapsed then return 0 end
redis.call('HSET', KEYS[3], ARGV[3], '1')
return 1
"""

# KEYS: deadline, seen. ARGV: socket-key prefix, expiry, now, key ttl, then pk, socket pairs.
REFRESH_SCRIPT = """
for i = 5, #ARGV, 2 do
  local key = ARGV[1] .. ARGV[i]
  if redis.call('ZSCORE', key, ARGV[i + 1]) then
    redis.call('ZADD', key, ARGV[2], ARGV[i + 1])
    redis.call('EXPIRE', key, ARGV[4])
    redis.call('ZADD', KEYS[1], 'GT', ARGV[2], ARGV[i])
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[3])
  end
end
return 0
"""

# KEYS: sockets(pk), deadline, seen. ARGV: socket, pk, now, grace.
DISCONNECT_SCRIPT = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
if redis.call('ZCARD', KEYS[1]) == 0 then
  redis.call('ZADD', KEYS[2], tonumber(ARGV[3]) + tonumber(ARGV[4]), ARGV[2])
end
return 0
"""

# KEYS: sockets(pk), deadline, announced, seen, names. ARGV: pk, now.
# Returns {last seen, userID} when the user is to be announced offline, else false.
SETTLE_SCRIPT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local live = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if #live > 0 then
  redis.call('ZADD', KEYS[2], live[2], ARGV[1])
  return false
end
local deadline = redis.call('ZSCORE', KEYS[2], ARGV[1])
if deadline and tonumber(deadline) > tonumber(ARGV[2]) then return false end
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('HGET', KEYS[3], ARGV[1]) ~= '1' then return false end
redis.call('HSET', KEYS[3], ARGV[1], '0')
return {redis.call('HGET', KEYS[4], ARGV[1]) or ARGV[2], redis.call('HGET', KEYS[5], ARGV[1]) or ''}
"""


class RedisPresence:
    """The shared store. Keys under ``prefix``: ``s:<pk>`` (a user's sockets, a sorted set
    by expiry), ``deadline`` (sorted set pk → deadline), ``announced``, ``custom``, ``seen``
    (hashes by pk). A lookup of N users is one pipeline of three commands."""

    def __init__(self, url, prefix):
        self.prefix = prefix
        self.client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=2, decode_responses=True)
        self._connect = self.client.register_script(CONNECT_SCRIPT)
        self._refresh = self.client.register_script(REFRESH_SCRIPT)
        self._disconnect = self.client.register_script(DISCONNECT_SCRIPT)
        self._settle = self.client.register_script(SETTLE_SCRIPT)

    def _key(self, name):
        return self.prefix + name

    def _sockets(self, pk):
        return f"{self.prefix}s:{pk}"

    def connect(self, pk, user_id, socket, now, ttl, max_sockets=0):
        keys = [self._sockets(pk), self._key("deadline"), self._key("announced"), self._key("seen"), self._key("names")]
        announce = self._connect(keys=keys, args=[socket, now + ttl, pk, now, int(ttl * 2) + 1, user_id, max_sockets])
        return None if announce < 0 else bool(announce)

    def refresh(self, entries, now, ttl):
        if not entries:
            return
        args = [self._key("s:"), now + ttl, now, int(ttl * 2) + 1]
        for pk, socket in entries:
            args += [pk, socket]
        self._refresh(keys=[self._key("deadline"), self._key("seen")], args=args)

    def disconnect(self, pk, socket, now, grace):
        self._disconnect(keys=[self._sockets(pk), self._key("deadline"), self._key("seen")], args=[socket, pk, now, grace])

    def due(self, now, limit=500):
        return [int(pk) for pk in self.client.zrangebyscore(self._key("deadline"), "-inf", now, start=0, num=limit)]

    def settle(self, pk, now):
        keys = [self._sockets(pk), self._key("deadline"), self._key("announced"), self._key("seen"), self._key("names")]
        settled = self._settle(keys=keys, args=[pk, now])
        return (float(settled[0]), settled[1]) if settled else None

    def statuses(self, pks, now):
        if not pks:
            return []
        pipe = self.client.pipeline(transaction=False)
        pipe.zmscore(self._key("deadline"), pks)
        pipe.hmget(self._key("custom"), pks)
        pipe.hmget(self._key("seen"), pks)
        deadlines, customs, seen = pipe.execute()
        return [
            Status(d is not None and float(d) > now, c or "", float(s) if s is not None else None)
            for d, c, s in zip(deadlines, customs, seen, strict=True)
        ]

    def online_count(self, pks, now):
        if not pks:
            return 0
        return sum(1 for d in self.client.zmscore(self._key("deadline"), pks) if d is not None and float(d) > now)

    def set_custom_status(self, pk, text):
        if text:
            self.client.hset(self._key("custom"), pk, text)
        else:
            self.client.hdel(self._key("custom"), pk)


_stores = {}


def store():
    """This process's store: Redis-backed when REDIS_URL is set, else in memory."""
    url = getattr(settings, "REDIS_URL", "")
    key = (url, conf.get("PRESENCE_KEY_PREFIX"))
    found = _stores.get(key)
    if found is None:
        found = _stores[key] = RedisPresence(url, key[1]) if url else MemoryPresence()
    return found


def reset():
    """Forget this process's stores and stop its trackers (tests; a changed REDIS_URL)."""
    stop_trackers()
    _stores.clear()


def clock():
    return time.time()


def statuses(pks):
    return store().statuses(list(pks), clock())


# --- events --------------------------------------------------------------------------------

EVENT = "USER_STATUS_UPDATED"


def status_item(user_id, status: Status, *, last_seen=True):
    """The SDK's ``{userID, statusType, customStatus}``, with our ``lastSeen`` (epoch seconds,
    0: unknown) when the viewer may see it (docs/PROTOCOL.md, getUserStatus)."""
    item = {"userID": user_id, "statusType": status.status_type, "customStatus": status.custom_status}
    if last_seen:
        item["lastSeen"] = 0 if status.online or status.last_seen is None else int(status.last_seen)
    return item


def status_message(user_pk, item, *, to_self=False):
    """The channel-layer message of a status change: to the user's subscribers (the
    ``presence.<pk>`` group), and with ``to_self`` to the user's own tabs as well."""
    return {"type": "chat.event", "event": EVENT, "data": [item], "origin": None, "meta": {"presence": str(user_pk)}}, (
        [("presence", user_pk)] + ([user_pk] if to_self else [])
    )


# --- this process's sockets: announcing, refreshing, sweeping ----------------------------------


class Tracker:
    """The sockets of this process (on one event loop) and the chore that keeps them
    counted: every ``PRESENCE_SWEEP`` seconds it settles the users whose deadline passed
    (announcing those who went offline), and every ``PRESENCE_REFRESH`` seconds it
    pushes the expiry of all its sockets forward in one call. It runs while this process
    has sockets, and for a grace period after the last one closed."""

    def __init__(self, loop):
        self.loop = loop
        self.sockets = {}  # channel name -> user pk
        self.task = None
        self.idle_since = None

    async def connect(self, user, channel_name, max_sockets=0):
        """Count the socket; announce the user online if they were not. False (nothing
        counted) when the user has ``max_sockets`` live sockets already, on any process.
        Presence must not take chatting down: if the store cannot be reached, the socket
        still opens (uncapped), and its user shows offline until they connect again."""
        now = clock()
        try:
            ttl = conf.get("PRESENCE_SOCKET_TTL")
            announce = await _off_loop(store().connect, user.pk, user.username, channel_name, now, ttl, max_sockets)
        except Exception as error:
            log.warning("presence of %s not recorded (%s)", user.username, error)
            announce = False
        if announce is None:
            return False
        self.sockets[channel_name] = user.pk
        self.idle_since = None
        self._ensure_running()
        if announce:
            try:
                [status] = await _off_loop(store().statuses, [user.pk], now)
                await _announce(user.pk, status_item(user.username, status))
            except Exception as error:
                log.warning("presence of %s not announced (%s)", user.username, error)
        return True

    async def disconnect(self, user, channel_name):
        if self.sockets.pop(channel_name, None) is None:
            return
        if not self.sockets:
            self.idle_since = clock()
        try:
            await _off_loop(store().disconnect, user.pk, channel_name, clock(), conf.get("PRESENCE_GRACE"))
        except Exception as error:  # the socket lapses on its own (PRESENCE_SOCKET_TTL)
            log.warning("presence of %s not updated on close (%s)", user.username, error)

    def _ensure_running(self):
        if self.task is None or self.task.done():
            self.task = self.loop.create_task(self._run())

    async def _run(self):
        next_refresh = clock() + conf.get("PRESENCE_REFRESH")
        while True:
            await asyncio.sleep(conf.get("PRESENCE_SWEEP"))
            now = clock()
            try:
                if now >= next_refresh:
                    next_refresh = now + conf.get("PRESENCE_REFRESH")
                    entries = [(pk, name) for name, pk in self.sockets.items()]
                    await _off_loop(store().refresh, entries, now, conf.get("PRESENCE_SOCKET_TTL"))
                await self.sweep(now)
            except Exception as error:  # Redis away: try again next round; never kill the chore
                log.warning("presence chore failed (%s)", error)
            if not self.sockets and self.idle_since is not None:
                if now - self.idle_since > conf.get("PRESENCE_GRACE") + 2 * conf.get("PRESENCE_SWEEP"):
                    self.task = None
                    return

    async def sweep(self, now):
        """Announce offline every user whose deadline passed with no live socket left."""
        for pk in await _off_loop(store().due, now):
            settled = await _off_loop(store().settle, pk, now)
            if settled is not None:
                seen, user_id = settled
                [status] = await _off_loop(store().statuses, [pk], now)
                await _announce(pk, status_item(user_id, Status(False, status.custom_status, seen)))

    def stop(self):
        if self.task is not None and not self.loop.is_closed():
            self.task.cancel()
        self.task = None


_trackers = {}


def tracker():
    """The tracker of the running event loop (tests run each on a loop of their own)."""
    loop = asyncio.get_running_loop()
    found = _trackers.get(loop)
    if found is None:
        for old_loop in [old for old in _trackers if old.is_closed()]:
            del _trackers[old_loop]
        found = _trackers[loop] = Tracker(loop)
    return found


def stop_trackers():
    for found in _trackers.values():
        found.stop()
    _trackers.clear()


async def _off_loop(func, *args):
    """A store call in a worker thread (not a database thread): the loop never waits on Redis."""
    return await sync_to_async(func, thread_sensitive=False)(*args)


async def _announce(user_pk, item):
    from messaging.events import send_events

    try:
        await send_events([status_message(user_pk, item)])
    except Exception as error:  # the channel layer is at-most-once; lookups stay right
        log.warning("status of %s not announced (%s)", item["userID"], error)
