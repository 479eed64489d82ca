"""The product's pub/sub channel layer decodes a group message once per process
(messaging/channel_layer.py): every local socket of the group gets the same decoded
message, and a channel outside the group gets nothing. Needs Redis at 127.0.0.1:6379."""

import asyncio

import pytest

from messaging.channel_layer import PubSubChannelLayer
from tests.integration.conftest import unique_name

pytestmark = pytest.mark.integration

SOCKETS = 50


@pytest.fixture
def layer(redis_url):
    return PubSubChannelLayer(hosts=[redis_url], prefix=unique_name("fanout"))


def count_decodes(layer):
    calls = []
    inner = layer._serializer.deserialize

    def counting(message):
        calls.append(message)
        return inner(message)

    layer._serializer.deserialize = counting
    return calls


async def test_a_group_message_is_decoded_once_per_process_and_reaches_only_the_group(layer):
    group = "thread.1"
    members = [await layer.new_channel() for _ in range(SOCKETS)]
    outsider = await layer.new_channel()
    for channel in members:
        await layer.group_add(group, channel)
    calls = count_decodes(layer)
    message = {"type": "chat.event", "event": "MESSAGE_RECEIVED", "data": {"text": "hi"}, "meta": {"recipients": ["1"]}}
    await layer.group_send(group, message)

    received = [await asyncio.wait_for(layer.receive(channel), 5) for channel in members]
    assert all(got == message for got in received)
    assert len({id(got) for got in received}) == 1, "every socket shares one decoded message"
    assert len(calls) == 1, f"decoded {len(calls)} times for {SOCKETS} sockets"
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(outsider), 0.3)

    # A second message is decoded (once) again, not served from the cache.
    await layer.group_send(group, {**message, "data": {"text": "again"}})
    again = [await asyncio.wait_for(layer.receive(channel), 5) for channel in members]
    assert {got["data"]["text"] for got in again} == {"again"}
    assert len(calls) == 2
    await layer.flush()
