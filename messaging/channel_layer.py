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
"""

import logging
import uuid

from channels_redis import pubsub

log = logging.getLogger(__name__)

RESYNC = {"type": "chat.resync"}


class _ResyncShard(pubsub.RedisSingleShardConnection):
    """A shard whose subscription connection, once made, announces its reconnections."""

    _watched = None

    async def subscribe(self, channel):
        await super().subscribe(channel)
        connection = self._pubsub.connection if self._pubsub is not None else None
        if connection is not None and connection is not self._watched:
            # redis-py calls connect callbacks in order after every (re)connect: its own
            # re-subscription first, then this one. The first connect is over already.
            self._watched = connection
            connection.register_connect_callback(self._reconnected)

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
