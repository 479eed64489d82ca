"""Group fan-out (issue 10): the pub/sub layer decodes a group message once per process,
and a thread-group send names its recipients and their counts in one map (``meta["to"]``).
The layer over a real Redis: tests/integration/test_fanout_decode.py."""

from messaging.channel_layer import PubSubChannelLayer
from messaging.events import count_for, is_addressed_to, pack_recipients


def test_the_same_bytes_are_decoded_once_and_new_bytes_again():
    layer = PubSubChannelLayer(hosts=["redis://127.0.0.1:6379"])
    calls = []
    inner = layer._serializer.deserialize
    layer._serializer.deserialize = lambda message: calls.append(message) or inner(message)
    message = {"type": "chat.event", "event": "X", "data": {"n": 1}, "meta": {}}
    sent = layer.serialize(message)
    decoded = [layer.deserialize(sent) for _ in range(1000)]
    assert decoded[0] == message and all(got is decoded[0] for got in decoded)
    assert len(calls) == 1
    assert layer.deserialize(layer.serialize(message)) is not decoded[0]  # other bytes, equal or not
    assert len(calls) == 2
    for n in range(PubSubChannelLayer.DECODED_CACHE * 2):  # bounded
        layer.deserialize(layer.serialize({"type": "x", "n": n}))
    assert len(layer._decoded) <= PubSubChannelLayer.DECODED_CACHE


def test_recipients_and_counts_in_one_map():
    meta = pack_recipients({"counts": {"1": 3, "2": 0, "9": 5}, "last": ["1"]}, [1, 2, 4])
    assert meta == {"to": {"1": 3, "2": 0, "4": None}, "last": ["1"]}
    assert [is_addressed_to(meta, pk) for pk in (1, 2, 4, 9)] == [True, True, True, False]
    assert [count_for(meta, pk) for pk in (1, 2, 4)] == [3, 0, None]


def test_events_without_a_recipient_map_are_for_every_receiver():
    assert is_addressed_to({}, 7)
    assert count_for({"counts": {"7": 2}}, 7) == 2
    assert is_addressed_to({"recipients": ["7"]}, 7) and not is_addressed_to({"recipients": ["7"]}, 8)
