"""channels-redis's pub/sub layer, which tells its sockets when Redis went away under them.

When the Redis connection of ``channels_redis.pubsub`` breaks (Redis restarted, a
network blip), redis-py connects again and re-subscribes every channel and group of the
process (``PubSub.on_connect``), and the sockets stay open. Whatever was published in
between is gone, and nothing tells the sockets: a client that stayed connected misses
those events silently, and would notice only at the next change of the same
conversation (tests/integration/test_chaos.py shows both).

This layer puts a ``chat.resync`` message into every channel of the process each time
its subscription connection is made again. The consumer closes the socket with 4012
(``consumers.RESYNC_CLOSE_CODE``); the client reconnects and calls ``sync`` (docs/PROTOCOL.md §8),
which brings everything it missed. Redis restarts are rare; a reconnect per socket is
their price.

It also decodes a group message once per process (``deserialize``): channels-redis
puts the same bytes object into the queue of every local channel of the group, and
decoded it once per receiving socket. For a group chat of 1,000 online members that
was 1,000 msgpack decodes of the same ~11 KB event per message (docs/PERFORMANCE.md,
"Group fan-out decode"). The sockets now share one decoded message; consumers treat
channel-layer messages as read-only.

And it can put a consumer's messages straight into the queue its server already reads
the socket's frames from (``new_inbox``): one queue and one waiting coroutine per socket
instead of Channels' two queues and two tasks (``await_many_dispatch``), which every idle
socket held and every delivery went through (messaging/consumers.py ``ChatConsumer.__call__``).

Its shards subscribe and publish in batches (``_ResyncShard``): channels-redis spent a
turn of the event loop on each subscription and each publish, one after another under
one lock, and a reconnect storm queued the whole process there.
"""

import asyncio
import logging
import uuid

from channels_redis import pubsub

log = logging.getLogger(__name__)

RESYNC = {"type": "chat.resync"}


class _Batches:
    """Requests applied in the order asked, one batch at a time: what is asked while a
    batch is applied makes the next one. When nothing is in progress, the caller applies
    its own request at once (no task, the common case on a quiet process); requests asked
    meanwhile are applied after it by one task. A caller waits until its request is
    applied. One cancelled while it waits may or may not have it applied (as under
    channels-redis's lock); what is applied keeps the order asked, and the shard's record
    of its subscriptions stays what Redis has."""

    def __init__(self, apply):
        self.apply = apply  # async (requests) -> None; what it raises fails the batch
        self.queue = []  # (*request, future)
        self.busy = False
        self.task = None  # the task applying the queue (held: the loop keeps only a weak reference)

    async def ask(self, *request):
        await self.ask_all([request])

    async def ask_all(self, requests):
        """Apply ``requests`` (a non-empty list), in order and in one batch."""
        if self.busy:
            # One future, the last request's: the queue is taken whole, so the requests
            # are applied in one batch and settled together.
            future = asyncio.get_running_loop().create_future()
            self.queue.extend((*request, None) for request in requests[:-1])
            self.queue.append((*requests[-1], future))
            await future
            return
        self.busy = True
        try:
            await self.apply([(*request, None) for request in requests])
        finally:
            if self.queue:
                self.task = asyncio.ensure_future(self._run())
            else:
                self.busy = False

    async def _run(self):
        batch = []
        try:
            while self.queue:
                batch, self.queue = self.queue, []
                try:
                    await self.apply(batch)
                except Exception as error:
                    _settle(batch, error)
                else:
                    _settle(batch)
        except BaseException:  # cancelled (the loop is closing): no caller waits for ever
            _settle((*batch, *self.queue), cancel=True)
            self.queue = []
            raise
        finally:
            self.busy = False
            self.task = None


def _settle(requests, error=None, *, cancel=False):
    """End the waits of these requests (each ends with its future): done, failed with
    ``error``, or cancelled; a future already done (its caller gone) is left."""
    for *_, future in requests:
        if future is None or future.done():  # no caller waits on it (``ask_all``), or its caller was cancelled
            continue
        if cancel:
            future.cancel()
        elif error is not None:
            future.set_exception(error)
        else:
            future.set_result(None)


async def _as_pushed(response):
    return response


class _ResyncShard(pubsub.RedisSingleShardConnection):
    """A shard that subscribes and publishes in batches and, once its subscription
    connection is made, announces its reconnections.

    channels-redis takes the shard's one lock around each SUBSCRIBE, UNSUBSCRIBE and
    publish, and waits for each publish's reply before the next: one of them per turn of
    the event loop. A socket's three subscriptions at connect (its inbox, its user's
    group, its session's group) were three turns; in a reconnect storm a thousand sockets
    queued there for seconds, and every delivery of the process queued behind them
    (docs/PERFORMANCE.md, the storm). Here the subscription changes asked meanwhile are
    applied in one turn of the lock, in the order asked, consecutive ones of a kind as one
    command (``SUBSCRIBE a b c``); publishes go in the order asked, those asked meanwhile
    in one pipeline, on one connection (so their order holds), without the lock.
    """

    _watched = None

    def __init__(self, host, channel_layer):
        super().__init__(host, channel_layer)
        self._changes = _Batches(self._apply_changes)  # (subscribe?, channel)
        self._outbox = _Batches(self._publish_batch)  # (channel, message)

    async def publish(self, channel, message):
        await self._outbox.ask(channel, message)

    async def publish_all(self, publishes):
        """PUBLISH each (channel, message) of ``publishes``, in order, in one batch."""
        await self._outbox.ask_all(publishes)

    async def _publish_batch(self, batch):
        """The batch's PUBLISH commands in one write on one connection of the pool, then
        their replies, with the pool's retry policy (as redis-py's ``execute_command``).
        Not through redis-py's client or pipeline: their wrappers around the commands
        (observability, retry and pipeline bookkeeping) cost as much CPU again as the
        commands (two publishes 187 µs, a pipeline of two 120 µs, the same two written
        here 92 µs; docs/PERFORMANCE.md, the ninth sitting)."""
        self._ensure_redis()
        pool = self._redis.connection_pool
        connection = await pool.get_connection()
        commands = connection.pack_commands([("PUBLISH", channel, message) for channel, message, _ in batch])

        async def send():
            await connection.send_packed_command(commands)
            for _ in batch:
                await connection.read_response()

        try:
            await connection.retry.call_with_retry(send, lambda error: connection.disconnect())
        finally:
            await pool.release(connection)

    def _ensure_redis(self):
        fresh = self._redis is None
        super()._ensure_redis()
        if fresh:
            # redis-py's own handler of a pushed message (RESP3) logs ``str(message)`` at
            # DEBUG for every message, whatever the level: the text of each event made
            # and thrown away. This one hands the message on as it came.
            self._pubsub.push_handler_func = _as_pushed

    async def _do_receiving(self):
        """channels-redis's receive loop, with a published message handed to its routing
        (``_receive_message``) as it is read: redis-py's ``get_message`` first went
        through ``handle_message``, which awaited its observability hooks for each
        message. Anything else (the replies to SUBSCRIBE and UNSUBSCRIBE) still goes
        through ``handle_message``, which keeps the subscription's record."""
        while True:
            try:
                pubsub = self._pubsub
                if not (pubsub and pubsub.subscribed):
                    await asyncio.sleep(0.1)
                    continue
                response = await pubsub.parse_response(block=False, timeout=0.1)
                if not response:
                    continue
                if len(response) == 3 and response[0] == b"message":
                    self._receive_message({"channel": response[1], "data": response[2]})
                else:
                    self._receive_message(await pubsub.handle_message(response, ignore_subscribe_messages=True))
            except (TimeoutError, asyncio.CancelledError, GeneratorExit):
                raise
            except BaseException:
                log.exception("Unexpected exception in receive task")
                await asyncio.sleep(1)

    async def subscribe(self, channel):
        await self._changes.ask(True, channel)
        connection = self._pubsub.connection if self._pubsub is not None else None
        if connection is not None and connection is not self._watched:
            # redis-py calls connect callbacks in order after every (re)connect: its own
            # re-subscription first, then this one. The first connect is over already.
            self._watched = connection
            connection.register_connect_callback(self._reconnected)

    async def unsubscribe(self, channel):
        await self._changes.ask(False, channel)

    async def _apply_changes(self, changes):
        async with self._lock:
            self._ensure_redis()
            self._ensure_receiver()
            for subscribe, channels in self._commands(changes):
                if subscribe:
                    await self._pubsub.subscribe(*channels)
                    self._subscribed_to.update(channels)
                else:
                    await self._pubsub.unsubscribe(*channels)
                    self._subscribed_to.difference_update(channels)

    def _commands(self, changes):
        """The commands that apply ``changes`` in order: (subscribe?, [channels]), a
        channel left out when it is already as asked (as channels-redis does)."""
        commands, now = [], {}
        for subscribe, channel, _ in changes:
            if now.get(channel, channel in self._subscribed_to) == subscribe:
                continue
            now[channel] = subscribe
            if commands and commands[-1][0] == subscribe:
                commands[-1][1].append(channel)
            else:
                commands.append((subscribe, [channel]))
        return commands

    async def _reconnected(self, connection):
        layer = self.channel_layer
        message = layer.channel_layer.serialize(RESYNC)
        for queue in layer.channels.values():
            queue.put_nowait(message)


class PubSubChannelLayer(pubsub.RedisPubSubChannelLayer):
    """``RedisPubSubChannelLayer`` with ``_ResyncShard`` shards (see the module)."""

    # Recently decoded messages, by the identity of their bytes: (bytes, message). The
    # bytes are kept so that their id() cannot be reused while the entry lives.
    DECODED_CACHE = 64

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._decoded = {}

    def deserialize(self, message):
        """Decode ``message`` once however many local channels receive the same bytes
        (a group send): every one gets the same (read-only) dict."""
        entry = self._decoded.get(id(message))
        if entry is not None and entry[0] is message:
            return entry[1]
        decoded = super().deserialize(message)
        if len(self._decoded) >= self.DECODED_CACHE:
            self._decoded.pop(next(iter(self._decoded)))
        self._decoded[id(message)] = (message, decoded)
        return decoded

    async def group_send_many(self, groups, message):
        """``group_send`` of one ``message`` to each of ``groups``: encoded once, and
        published in one batch per shard (one write for a C2C send's two user groups)."""
        layer = self._get_layer()
        data = layer.channel_layer.serialize(message)
        by_shard = {}
        for group in groups:
            channel = layer._get_group_channel_name(group)
            by_shard.setdefault(layer._get_shard(channel), []).append((channel, data))
        for shard, publishes in by_shard.items():
            await shard.publish_all(publishes)

    async def new_inbox(self, inbox):
        """A new channel of this process whose messages are put into ``inbox`` (an
        ``asyncio.Queue``, or anything with ``put_nowait``) as the bytes published: the
        reader decodes them with ``deserialize``. ``close_inbox`` ends it."""
        layer = self._get_layer()
        channel = f"{layer.prefix}specific.{uuid.uuid4().hex}"
        layer.channels[channel] = inbox
        await layer._get_shard(channel).subscribe(channel)
        return channel

    async def close_inbox(self, channel):
        """Stop receiving on ``channel`` (also when the reader was cancelled: no await
        happens before the channel is gone from the process)."""
        layer = self._get_layer()
        if layer.channels.pop(channel, None) is None:
            return
        try:
            await layer._get_shard(channel).unsubscribe(channel)
        except Exception:  # Redis away: its subscription goes with the connection
            log.warning("could not unsubscribe %s", channel, exc_info=True)

    def _get_layer(self):
        layer = super()._get_layer()
        if not getattr(layer, "resync_shards", False):
            # A loop's layer is new here (it connects on first use): swap its shards, once
            # (this runs for every send and receive of the process).
            layer._shards = [_ResyncShard(shard.host, layer) for shard in layer._shards]
            layer.resync_shards = True
        return layer
