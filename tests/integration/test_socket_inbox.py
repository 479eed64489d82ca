"""One queue per socket on the product's pub/sub layer (messaging/consumers.py
``ChatConsumer.__call__``, messaging/channel_layer.py ``new_inbox``). Needs Redis.

The layer puts a socket's messages into the queue the server reads its frames from:
no second queue and no ``await_many_dispatch`` tasks per socket (docs/PERFORMANCE.md,
memory per idle socket). What must hold: frames and events both arrive, in order; the
socket's channel and its Redis subscription go when it closes (also when the server
cancels it); a Redis reconnection still reaches it as a resync (4012).
"""

import asyncio
import json
import threading

import pytest
import redis
from channels.layers import channel_layers
from django.test import override_settings

from messaging.channel_layer import RESYNC, PubSubChannelLayer
from messaging.events import user_group
from tests.integration.conftest import unique_name

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def pubsub_layer(redis_url):
    prefix = unique_name("inbox")
    config = {
        "default": {"BACKEND": "messaging.channel_layer.PubSubChannelLayer", "CONFIG": {"hosts": [redis_url], "prefix": prefix}}
    }
    with override_settings(CHANNEL_LAYERS=config):
        channel_layers.backends = {}
        yield channel_layers["default"]
    channel_layers.backends = {}


def redis_subscribers(redis_url, channel):
    client = redis.Redis.from_url(redis_url)
    try:
        return client.pubsub_numsub(channel)[0][1]
    finally:
        client.close()


async def wait_until(condition, timeout=5):
    for _ in range(int(timeout / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


async def test_a_socket_reads_frames_and_events_from_the_servers_queue(pubsub_layer, open_tab, alice, bob, redis_url):
    assert isinstance(pubsub_layer, PubSubChannelLayer)
    tab = await open_tab(alice)
    loop_layer = pubsub_layer._get_layer()
    (channel,) = [name for name in loop_layer.channels if name.startswith(f"{loop_layer.prefix}specific.")]
    # The layer feeds the very queue the server (here Channels' communicator) reads from.
    assert loop_layer.channels[channel].queue is tab.communicator.input_queue
    assert redis_subscribers(redis_url, channel) == 1
    # Another socket adds one task (the application itself), not three (it, and Channels'
    # two receivers); the first one started the process's own (the layer's reader, presence).
    tasks_before = len(asyncio.all_tasks())
    other = await open_tab(bob)
    assert len(asyncio.all_tasks()) - tasks_before == 1

    # An op's reply (a frame in) and a delivery (an event from the layer) both arrive.
    sent = await other.send_text("alice", "hi")
    assert sent["payload"]["text"] == "hi"
    (received,) = await tab.wait_event("MESSAGE_RECEIVED")
    assert received["ID"] == sent["ID"]
    profile = await tab.request("getMyProfile")
    assert profile["userID"] == "alice"

    # A message published to the socket's own user group reaches it through the same queue.
    await pubsub_layer.group_send(
        user_group(alice.pk), {"type": "chat.event", "event": "PROFILE_UPDATED", "data": [], "meta": {}}
    )
    assert await tab.wait_event("PROFILE_UPDATED") == []

    await tab.communicator.disconnect()
    await wait_until(lambda: channel not in loop_layer.channels)
    await wait_until(lambda: redis_subscribers(redis_url, channel) == 0)


async def test_a_cancelled_socket_leaves_no_channel_behind(pubsub_layer, alice, redis_url):
    from tests.ws import Tab

    tab = await Tab.open(alice)  # not open_tab's: its teardown would close it again
    loop_layer = pubsub_layer._get_layer()
    (channel,) = [name for name in loop_layer.channels if name.startswith(f"{loop_layer.prefix}specific.")]
    tab.communicator.future.cancel()  # what Daphne does to an application that outlives its socket
    with pytest.raises(asyncio.CancelledError):
        await tab.communicator.future
    assert channel not in loop_layer.channels
    await wait_until(lambda: redis_subscribers(redis_url, channel) == 0)


async def test_a_resync_put_into_the_inbox_closes_the_socket_with_4012(pubsub_layer, open_tab, alice):
    tab = await open_tab(alice)
    loop_layer = pubsub_layer._get_layer()
    (channel,) = [name for name in loop_layer.channels if name.startswith(f"{loop_layer.prefix}specific.")]
    # What _ResyncShard._reconnected does for every channel of the process.
    loop_layer.channels[channel].put_nowait(pubsub_layer.serialize(RESYNC))
    closed = await tab.communicator.receive_output(timeout=3)
    while closed["type"] != "websocket.close":
        closed = await tab.communicator.receive_output(timeout=3)
    assert closed["code"] == 4012


def specific_channels(loop_layer):
    return {name for name in loop_layer.channels if name.startswith(f"{loop_layer.prefix}specific.")}


async def a_delivery(sender, to, text):
    """The bytes the layer carries for a C2C message from ``sender`` to ``to`` (the send's
    real event, collected instead of published)."""
    from channels.db import database_sync_to_async

    from messaging import actions
    from messaging.events import collect_events

    def send():
        with collect_events() as events:
            actions.send_message(sender, conversation_type="C2C", to=to, msg_type="TIMTextElem", payload={"text": text})
        ((message, _targets),) = events
        return message

    return await database_sync_to_async(send)()


async def test_a_new_message_reaches_an_idle_socket_at_once_and_a_busy_one_after_its_reply(
    pubsub_layer, open_tab, alice, bob, monkeypatch
):
    """ChatConsumer.take_now: the layer's call itself writes the frame of a new message to
    a socket that waits with nothing queued (the frame is out before the consumer's task
    runs again). A socket busy with a request (its op running in a database thread, its
    queue empty) gets the message after the request's reply, as does one whose queue
    holds a request not yet read. The frames are the same."""
    from messaging import consumers

    release, running = threading.Event(), threading.Event()

    def slow_profile(user, args, origin):
        running.set()
        release.wait(5)
        return {"userID": user.username}

    monkeypatch.setitem(consumers.HANDLERS, "getMyProfile", slow_profile)
    loop_layer = pubsub_layer._get_layer()
    idle = await open_tab(alice)
    (idle_channel,) = specific_channels(loop_layer)
    busy = await open_tab(alice)
    (busy_channel,) = specific_channels(loop_layer) - {idle_channel}
    data = pubsub_layer.serialize(await a_delivery(bob, "alice", "at once"))

    loop_layer.channels[idle_channel].put_nowait(data)
    assert idle.communicator.output_queue.qsize() == 1  # written already, no await between
    at_once = await idle.communicator.receive_from()

    # Busy in an op: its queue is empty, its task waits for the database thread.
    await busy.communicator.send_to(text_data=json.dumps({"id": 41, "op": "getMyProfile", "args": {}}))
    await wait_until(running.is_set)
    assert busy.communicator.input_queue.qsize() == 0
    loop_layer.channels[busy_channel].put_nowait(data)
    assert busy.communicator.output_queue.qsize() == 0
    release.set()
    reply = json.loads(await busy.communicator.receive_from())
    assert reply["id"] == 41 and reply["ok"], reply
    assert await busy.communicator.receive_from() == at_once

    # A request queued, not yet read (the socket waits for its queue again): the message
    # goes behind it.
    assert await busy.communicator.receive_nothing(timeout=0.1)
    second = pubsub_layer.serialize(await a_delivery(bob, "alice", "behind"))
    await busy.communicator.send_to(text_data=json.dumps({"id": 42, "op": "getMyProfile", "args": {}}))
    loop_layer.channels[busy_channel].put_nowait(second)
    assert busy.communicator.output_queue.qsize() == 0
    reply = json.loads(await busy.communicator.receive_from())
    assert reply["id"] == 42 and reply["ok"], reply
    behind = json.loads(await busy.communicator.receive_from())
    assert behind["data"][0]["payload"] == {"text": "behind"}

    frame = json.loads(at_once)
    assert frame["event"] == "MESSAGE_RECEIVED" and frame["data"][0]["payload"] == {"text": "at once"}
    assert (frame["conversation"]["unreadCount"], frame["totalUnreadCount"]) == (1, 1)


async def test_a_message_that_fails_on_delivery_at_once_closes_the_socket_for_a_resync(pubsub_layer, open_tab, alice, bob):
    """A new message that cannot be made into a frame (here it lacks its fields) is not
    lost silently and does not stop the layer's reader: the socket closes with 4012, and
    the client reconnects and syncs (docs/PROTOCOL.md §8)."""
    loop_layer = pubsub_layer._get_layer()
    tab = await open_tab(alice)
    (channel,) = specific_channels(loop_layer)
    broken = {"type": "chat.event", "event": "MESSAGE_RECEIVED", "data": {}, "meta": {}}
    loop_layer.channels[channel].put_nowait(pubsub_layer.serialize(broken))
    closed = await tab.communicator.receive_output(timeout=3)
    while closed["type"] != "websocket.close":
        closed = await tab.communicator.receive_output(timeout=3)
    assert closed["code"] == 4012
