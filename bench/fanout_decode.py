"""One group message delivered to N local sockets, in one process (issue 10).

``python -m bench.fanout_decode [--members 1000] [--reps 20]`` (needs Redis, ``REDIS_URL``
or 127.0.0.1:6379)

The product's channel layer (``messaging.channel_layer.PubSubChannelLayer``, pub/sub on
Redis) with ``members`` channels in one thread group, each read by a ``ChatConsumer``
whose socket is a stub (frames are counted, not sent) and whose user is one member.
The event is made by ``events.publish_on_commit(..., via_thread=...)`` as a group send
makes it (a delivery of a ~1 KB text message, every member's unread count); one more
channel in the group is a removed member's (it must drop the event).

Measured per message: the process's CPU time from the ``group_send`` until every member's
consumer has sent its frame (Redis round trip included), the encoded event's size, and
how many times the layer decoded it. Median and minimum over ``reps`` messages.
"""

import argparse
import asyncio
import json
import os
import statistics
import time
import uuid
from types import SimpleNamespace


def setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
    import django

    django.setup()


def delivery(sequence: int) -> dict:
    """A group text message as the channel layer carries it (``serialize.delivery``'s keys)."""
    text = "x" * 400
    message = {
        "ID": f"GROUP-g1-{sequence}",
        "conversationID": "GROUPg1",
        "conversationType": "GROUP",
        "from": "u0",
        "to": "g1",
        "flow": "in",
        "sequence": sequence,
        "time": 1796000000 + sequence,
        "type": "TIMTextElem",
        "payload": {"text": text},
        "nick": "User 0",
        "avatar": "/media/avatars/u0.png",
        "atUserList": [],
        "cloudCustomData": "",
        "needReadReceipt": False,
    }
    out = {**message, "flow": "out"}
    head = json.dumps({"conversationID": "GROUPg1", "type": "GROUP", "syncCursor": sequence})[:-1]
    last = ',"lastMessage":' + json.dumps({"messageForShow": text, "fromAccount": "u0", "lastTime": message["time"]})
    return {
        "ID": message["ID"],
        "from": "u0",
        "to": "g1",
        "conversationType": "GROUP",
        "json_in": json.dumps(message),
        "json_out": json.dumps(out),
        "cid_in": "GROUPg1",
        "cid_out": "GROUPg1",
        "sequence": sequence,
        "change": sequence,
        "atUserList": [],
        "patch_in": head + last,
        "patch_out": head + last,
    }


def group_event(sequence: int, member_pks: list[int]) -> dict:
    """The channel-layer message ``publish_on_commit`` makes for a thread-group send."""
    from messaging import events

    meta = {"counts": {str(pk): (pk + sequence) % 50 for pk in member_pks}}
    on_commit = events.transaction.on_commit
    events.transaction.on_commit = lambda func: func()
    try:
        with events.collect_events() as collected:
            events.publish_on_commit("MESSAGE_RECEIVED", delivery(sequence), member_pks, meta=meta, via_thread=1)
    finally:
        events.transaction.on_commit = on_commit
    [(message, _targets)] = collected
    return message


def stub_consumer(pk: int, channel: str, frames: list):
    from messaging.consumers import ChatConsumer

    consumer = ChatConsumer.__new__(ChatConsumer)
    consumer.user = SimpleNamespace(pk=pk, username=f"u{pk}")
    consumer.channel_name = channel
    consumer.ended = False
    consumer.unread, consumer.unread_total, consumer.counted_at, consumer.recent = {}, 0, {}, {}
    consumer.muted = set()  # (main since issue 11)

    async def send(text_data=None, bytes_data=None, close=False):
        frames.append(pk)

    consumer.send = send
    return consumer


async def run(members: int, reps: int) -> dict:
    from messaging.channel_layer import PubSubChannelLayer

    redis_url = (os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0").split(",")[0].strip()
    layer = PubSubChannelLayer(hosts=[redis_url], prefix=f"bench-fanout-{uuid.uuid4().hex[:8]}")
    decodes = []
    inner = layer._serializer.deserialize

    def counting(message):
        decodes.append(1)
        return inner(message)

    layer._serializer.deserialize = counting
    member_pks = list(range(10_001, 10_001 + members))
    frames, removed_frames = [], []
    expected = {"count": members, "done": None}

    async def serve(consumer):
        while True:
            message = await layer.receive(consumer.channel_name)
            try:
                await consumer.dispatch(message)
            except Exception as error:  # a stub out of step with the consumer: say so, don't hang
                print(f"consumer {consumer.user.pk}: {error!r}")
                raise
            if len(frames) >= expected["count"] and expected["done"] is not None:
                expected["done"].set()

    consumers = []
    for pk in member_pks:
        consumers.append(stub_consumer(pk, await layer.new_channel(), frames))
    consumers.append(stub_consumer(999_999, await layer.new_channel(), removed_frames))  # removed from the group
    for consumer in consumers:
        await layer.group_add("thread.1", consumer.channel_name)
    tasks = [asyncio.create_task(serve(consumer)) for consumer in consumers]

    cpu_ms, sizes, decodes_per_message = [], [], []
    try:
        for sequence in range(1, reps + 2):  # the first one warms up
            message = group_event(sequence, member_pks)
            frames.clear()
            decodes.clear()
            expected["done"] = asyncio.Event()
            started = time.process_time()
            await layer.group_send("thread.1", message)
            await asyncio.wait_for(expected["done"].wait(), 60)
            spent = (time.process_time() - started) * 1000
            await asyncio.sleep(0.05)  # the removed member's consumer has had its turn
            if sequence > 1:
                cpu_ms.append(spent)
                sizes.append(len(layer.serialize(message)))
                decodes_per_message.append(len(decodes))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await layer.flush()
    assert not removed_frames, "a removed member's socket got the event"
    return {
        "members": members,
        "reps": reps,
        "cpu_ms_per_message_median": round(statistics.median(cpu_ms), 1),
        "cpu_ms_per_message_min": round(min(cpu_ms), 1),
        "event_bytes": sizes[-1],
        "decodes_per_message": max(decodes_per_message),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--reps", type=int, default=20)
    args = parser.parse_args(argv)
    setup_django()
    result = asyncio.run(run(args.members, args.reps))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
