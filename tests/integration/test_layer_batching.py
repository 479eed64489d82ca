"""The pub/sub layer's shard applies subscriptions in batches and publishes in order
without waiting for them (messaging/channel_layer.py ``_ResyncShard``). Needs Redis.

channels-redis takes one lock per shard around each SUBSCRIBE, UNSUBSCRIBE and publish:
in a reconnect storm each socket's subscriptions took a turn of the lock, and every
delivery of the process queued behind them (docs/PERFORMANCE.md, the storm). What must
hold here: many changes asked at once go out as few commands; they keep the order they
were asked in (a discard right after an add leaves nothing subscribed, and the reverse);
a caller cancelled meanwhile does not withdraw its change; publishes keep their order,
go out in pipelines, and do not wait for the subscription lock.
"""

import asyncio

import pytest
import redis
from redis.asyncio.client import PubSub

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
    assert commands == [("UNSUBSCRIBE", 200)]
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


async def test_a_cancelled_caller_does_not_withdraw_its_change(layer, redis_url):
    channel = await layer.new_channel()
    shard = layer._get_layer()._get_shard(layer._get_layer()._get_group_channel_name("cancelled"))
    async with shard._lock:  # the lock busy: the change waits
        adding = asyncio.ensure_future(layer.group_add("cancelled", channel))
        await asyncio.sleep(0.05)
        adding.cancel()
    with pytest.raises(asyncio.CancelledError):
        await adding
    await layer.group_discard("other", channel)  # a later change: applied after it
    assert await asyncio.to_thread(subscribers, redis_url, group_channels(layer, ["cancelled"])) == {
        group_channels(layer, ["cancelled"])[0]: 1
    }
    await layer.group_discard("cancelled", channel)
    assert list((await asyncio.to_thread(subscribers, redis_url, group_channels(layer, ["cancelled"]))).values()) == [0]


async def test_publishes_keep_their_order_go_out_together_and_do_not_wait_for_the_lock(layer, redis_url, monkeypatch):
    receiver = await layer.new_channel()
    await layer.group_add("room", receiver)
    other = PubSubChannelLayer(hosts=[redis_url], prefix=layer._get_layer().prefix)  # another process's layer
    shard = other._get_layer()._get_shard(other._get_layer()._get_group_channel_name("room"))
    await other.group_send("room", {"type": "chat.event", "n": -1})  # connects
    assert (await asyncio.wait_for(layer.receive(receiver), 5))["n"] == -1

    pipelines = []
    execute = shard._redis.pipeline().__class__.execute

    async def spy_execute(self, *args, **kwargs):
        pipelines.append(len(self.command_stack))
        return await execute(self, *args, **kwargs)

    monkeypatch.setattr(shard._redis.pipeline().__class__, "execute", spy_execute)
    async with shard._lock:  # held as by a subscription in progress: publishing goes on
        await asyncio.wait_for(asyncio.gather(*(other.group_send("room", {"type": "chat.event", "n": n}) for n in range(100))), 5)
    received = [(await asyncio.wait_for(layer.receive(receiver), 5))["n"] for _ in range(100)]
    assert received == list(range(100))
    assert sum(pipelines) >= 99 and len(pipelines) <= 3, pipelines  # not one round trip each
    await other.flush()
