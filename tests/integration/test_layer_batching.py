"""The pub/sub layer's shard applies subscriptions in batches and publishes in order
without waiting for them (messaging/channel_layer.py ``_ResyncShard``). Needs Redis.

channels-redis takes one lock per shard around each SUBSCRIBE, UNSUBSCRIBE and publish:
in a reconnect storm each socket's subscriptions took a turn of the lock, and every
delivery of the process queued behind them (docs/PERFORMANCE.md, the storm). What must
hold here: many changes asked at once go out as few commands; they keep the order they
were asked in (a discard right after an add leaves nothing subscribed, and the reverse);
callers cancelled meanwhile leave the shard's record as Redis has it; publishes keep their order,
go out in batches (one write each), and do not wait for the subscription lock.
"""

import asyncio

import pytest
import redis
from redis.asyncio.client import PubSub

from messaging import events
from messaging.channel_layer import PubSubChannelLayer
from tests.integration.conftest import unique_name

pytestmark = pytest.mark.integration


@pytest.fixture
async def layer(redis_url):
    layer = PubSubChannelLayer(hosts=[redis_url], prefix=unique_name("batch"))
    yield layer
    await layer.flush()


def subscribers(redis_url, channels):
    client = redis.Redis.from_url(redis_url)
    try:
        return dict(client.pubsub_numsub(*channels))
    finally:
        client.close()


def group_channels(layer, groups):
    return [layer._get_layer()._get_group_channel_name(g).encode() for g in groups]


@pytest.fixture
def commands(monkeypatch):
    """The SUBSCRIBE and UNSUBSCRIBE commands sent: (name, number of channels)."""
    sent = []
    subscribe, unsubscribe = PubSub.subscribe, PubSub.unsubscribe

    async def spy_subscribe(self, *args, **kwargs):
        sent.append(("SUBSCRIBE", len(args)))
        return await subscribe(self, *args, **kwargs)

    async def spy_unsubscribe(self, *args):
        sent.append(("UNSUBSCRIBE", len(args)))
        return await unsubscribe(self, *args)

    monkeypatch.setattr(PubSub, "subscribe", spy_subscribe)
    monkeypatch.setattr(PubSub, "unsubscribe", spy_unsubscribe)
    return sent


async def test_many_subscriptions_asked_at_once_go_out_as_few_commands(layer, redis_url, commands):
    channel = await layer.new_channel()
    groups = [f"g{i}" for i in range(200)]
    await asyncio.gather(*(layer.group_add(g, channel) for g in groups))

    assert sum(n for _, n in commands) == 201  # every channel subscribed once
    assert len(commands) <= 3, commands  # one command per turn of the lock, not one per channel
    counts = await asyncio.to_thread(subscribers, redis_url, group_channels(layer, groups))
    assert set(counts.values()) == {1}

    commands.clear()
    await asyncio.gather(*(layer.group_discard(g, channel) for g in groups))
    assert {name for name, _ in commands} == {"UNSUBSCRIBE"} and sum(n for _, n in commands) == 200
    assert len(commands) <= 3, commands
    counts = await asyncio.to_thread(subscribers, redis_url, group_channels(layer, groups))
    assert set(counts.values()) == {0}


async def test_changes_keep_the_order_they_were_asked_in(layer, redis_url):
    channel = await layer.new_channel()
    # Asked in one turn of the loop: each pair ends as its last change says.
    await asyncio.gather(
        layer.group_add("added-then-discarded", channel),
        layer.group_discard("added-then-discarded", channel),
        layer.group_add("kept", channel),
    )
    await layer.group_add("discarded-then-added", channel)
    await asyncio.gather(
        layer.group_discard("discarded-then-added", channel),
        layer.group_add("discarded-then-added", channel),
    )
    names = ["added-then-discarded", "kept", "discarded-then-added"]
    counts = await asyncio.to_thread(subscribers, redis_url, group_channels(layer, names))
    assert list(counts.values()) == [0, 1, 1]


async def test_cancelled_callers_leave_the_record_as_redis_has_it(layer, redis_url):
    channel = await layer.new_channel()
    loop_layer = layer._get_layer()
    names = ["first", "queued", "discarded"]
    (shard,) = {loop_layer._get_shard(loop_layer._get_group_channel_name(name)) for name in names}
    await layer.group_add("discarded", channel)
    async with shard._lock:  # busy: the first change waits for the lock, the others queue
        callers = [
            asyncio.ensure_future(layer.group_add("first", channel)),
            asyncio.ensure_future(layer.group_add("queued", channel)),
            asyncio.ensure_future(layer.group_discard("discarded", channel)),
        ]
        await asyncio.sleep(0.05)
        for caller in callers:
            caller.cancel()
    await asyncio.gather(*callers, return_exceptions=True)
    await layer.group_add("later", channel)  # applied after whatever the cancelled ones left
    counts = await asyncio.to_thread(subscribers, redis_url, group_channels(layer, names))
    recorded = [name.decode() in shard._subscribed_to for name in group_channels(layer, names)]
    assert [count == 1 for count in counts.values()] == recorded
    assert counts[group_channels(layer, ["queued"])[0]] == 1  # a queued change is not withdrawn
    for name in names:
        loop_layer.groups.setdefault(loop_layer._get_group_channel_name(name), set()).add(channel)
        await layer.group_discard(name, channel)
    counts = await asyncio.to_thread(subscribers, redis_url, group_channels(layer, names))
    assert set(counts.values()) == {0}


async def test_publishes_keep_their_order_go_out_together_and_do_not_wait_for_the_lock(layer, redis_url, monkeypatch):
    receiver = await layer.new_channel()
    await layer.group_add("room", receiver)
    other = PubSubChannelLayer(hosts=[redis_url], prefix=layer._get_layer().prefix)  # another process's layer
    shard = other._get_layer()._get_shard(other._get_layer()._get_group_channel_name("room"))
    await other.group_send("room", {"type": "chat.event", "n": -1})  # connects
    assert (await asyncio.wait_for(layer.receive(receiver), 5))["n"] == -1

    batches = spy_batches(monkeypatch, other)
    async with shard._lock:  # held as by a subscription in progress: publishing goes on
        await asyncio.wait_for(asyncio.gather(*(other.group_send("room", {"type": "chat.event", "n": n}) for n in range(100))), 5)
    received = [(await asyncio.wait_for(layer.receive(receiver), 5))["n"] for _ in range(100)]
    assert received == list(range(100))
    assert sum(batches) >= 99 and len(batches) <= 3, batches  # not one round trip each
    await other.flush()


def spy_batches(monkeypatch, layer):
    """The sizes of the publish batches ``layer``'s shards write (one write each) from now on."""
    sizes = []
    for shard in layer._get_layer()._shards:
        apply = shard._outbox.apply

        async def spy(batch, apply=apply):
            sizes.append(len(batch))
            return await apply(batch)

        monkeypatch.setattr(shard._outbox, "apply", spy)
    return sizes


async def test_one_event_to_two_users_is_encoded_once_and_written_once(layer, monkeypatch):
    """A C2C send's event goes to the sender's and the receiver's user groups: one batch,
    so one write and one read of both replies (``group_send_many``), and each group's
    sockets get it."""
    alice, bob = await layer.new_channel(), await layer.new_channel()
    await layer.group_add(events.user_group(1), alice)
    await layer.group_add(events.user_group(2), bob)
    batches = spy_batches(monkeypatch, layer)
    encoded = []
    serializer = layer._get_layer().channel_layer
    serialize = serializer.serialize
    monkeypatch.setattr(serializer, "serialize", lambda message: encoded.append(message) or serialize(message))
    monkeypatch.setattr(events, "get_channel_layer", lambda: layer)
    await events.send_events([({"type": "chat.event", "n": 7}, [2, 1])])
    assert batches == [2]
    assert len(encoded) == 1
    assert (await asyncio.wait_for(layer.receive(alice), 5))["n"] == 7
    assert (await asyncio.wait_for(layer.receive(bob), 5))["n"] == 7


async def test_sends_to_many_groups_asked_meanwhile_keep_their_order_and_all_return(layer, redis_url):
    """``group_send_many`` calls made while a batch is written wait for the next one (as
    ``group_send``'s do) and each returns once its publishes are written."""
    alice, bob = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("many-a", alice)
    await layer.group_add("many-b", bob)
    sends = [layer.group_send_many(["many-a", "many-b"], {"type": "chat.event", "n": n}) for n in range(50)]
    await asyncio.wait_for(asyncio.gather(*sends), 5)
    for channel in (alice, bob):
        assert [(await asyncio.wait_for(layer.receive(channel), 5))["n"] for _ in range(50)] == list(range(50))


async def test_after_redis_closed_the_publishes_connection_the_next_batch_gets_a_new_one(layer, redis_url):
    """The publishes' connection was closed by Redis (a restart, a client timeout): the
    batch that finds it so fails (the pool's retry policy, as for redis-py's commands:
    none by default; the consumer then closes its socket for a resync), and the next
    batch goes out on a new connection."""
    receiver = await layer.new_channel()
    await layer.group_add("again", receiver)
    await layer.group_send("again", {"type": "chat.event", "n": 0})
    assert (await asyncio.wait_for(layer.receive(receiver), 5))["n"] == 0
    shard = layer._get_layer()._get_shard(layer._get_layer()._get_group_channel_name("again"))
    name = unique_name("chat_pub")
    await shard._redis.client_setname(name)  # the pool's one idle connection: the publishes'
    client = redis.Redis.from_url(redis_url)
    try:
        client.client_kill_filter(_id=next(entry["id"] for entry in client.client_list() if entry["name"] == name))
    finally:
        client.close()
    with pytest.raises(redis.ConnectionError):
        await layer.group_send_many(["again"], {"type": "chat.event", "n": 1})
    await layer.group_send_many(["again", "again"], {"type": "chat.event", "n": 1})
    assert [(await asyncio.wait_for(layer.receive(receiver), 5))["n"] for _ in range(2)] == [1, 1]


async def test_published_messages_are_routed_as_read_and_not_logged(layer, monkeypatch, caplog):
    """The receive loop (``_ResyncShard._do_receiving``) hands a published message's bytes
    to the channel's queue, and to every local channel of a group, without redis-py's
    ``handle_message`` (a dict and awaited hooks per message) and without its handler of
    pushed messages, which logged the text of every one at DEBUG (``str(message)`` made
    whatever the level). The replies to SUBSCRIBE still go through ``handle_message``."""
    handled = []
    handle_message = PubSub.handle_message

    async def spy(self, response, *args, **kwargs):
        handled.append(bytes(response[0]))
        return await handle_message(self, response, *args, **kwargs)

    monkeypatch.setattr(PubSub, "handle_message", spy)
    caplog.set_level("DEBUG", logger="push_response")
    one, two, alone = await layer.new_channel(), await layer.new_channel(), await layer.new_channel()
    await layer.group_add("routed", one)
    await layer.group_add("routed", two)
    await layer.group_send("routed", {"type": "chat.event", "n": 1})
    await layer.send(alone, {"type": "chat.event", "n": 2})
    assert [(await asyncio.wait_for(layer.receive(channel), 5))["n"] for channel in (one, two, alone)] == [1, 1, 2]
    assert handled and set(handled) == {b"subscribe"}
    assert "Push response" not in caplog.text


async def test_the_layer_reads_with_the_c_reply_parser(layer):
    """requirements.txt pins hiredis: redis-py then parses the subscription's pushes and the
    publishes' replies in C, not in its pure-Python RESP3 parser, which was 7 % of a loaded
    Daphne's time (docs/PERFORMANCE.md, hiredis). Without it installed, this fails."""
    from redis._parsers import _AsyncHiredisParser

    channel = await layer.new_channel()
    await layer.group_add("parser", channel)
    await layer.group_send("parser", {"type": "probe"})
    assert await asyncio.wait_for(layer.receive(channel), 5) == {"type": "probe"}
    shard = layer._get_layer()._shards[0]
    assert type(shard._pubsub.connection._parser) is _AsyncHiredisParser
