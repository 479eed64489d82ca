"""10,000 hostile frames (hypothesis) at one socket: every frame gets a reply, never
the internal-error code 10002, and the socket stays open and usable (issue 9: the
socket used to die on a lone surrogate, deep nesting, a huge integer).

The frames are drawn once, reproducibly (``derandomize``), then sent in order over
the real ASGI stack (origin check, session auth, consumer); a failure names the
frame. Ops, argument names and values are drawn from the schemas, so the args reach
each op's validation and, when they pass it, the op itself."""

import json

import pytest
from channels.db import database_sync_to_async
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from messaging import schemas
from messaging.errors import ErrorCode
from tests.chat_helpers import fast_passwords, make_group  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

FRAMES = 10_000
OP_NAMES = sorted(schemas.OPS)
ARG_NAMES = sorted({name for schema in schemas.OPS.values() for name in schema.__struct_fields__})
USER_IDS = ["alice", "bob", "nobody", "", "@TIM#SYSTEM"]
CONVERSATION_IDS = ["C2Cbob", "C2Calice", "GROUPg1", "GROUP", "C2C", "@TIM#SYSTEM", "GROUPnope"]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.sampled_from([2**63, -(2**63) - 1, 2**64, 10**30, 0, -1, 15, 100])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(USER_IDS + CONVERSATION_IDS + OP_NAMES + ["TIMTextElem", "GROUP", "C2C", "Admin", "Public"])
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(ARG_NAMES) | st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
counts = st.integers(min_value=-5, max_value=200) | st.sampled_from([2**31, 2**63, 2**64, -(2**63)])
texts_short = st.text(max_size=40) | st.sampled_from(["", " ", "x" * 31, "x" * 300, "\u202egnp.exe", "<script>alert(1)</script>"])
messages = st.fixed_dictionaries(
    {
        "to": st.sampled_from(USER_IDS + ["g1", "demo"]),
        "conversationType": st.sampled_from(["C2C", "GROUP", "@TIM#SYSTEM", "c2c"]) | values,
        "type": st.sampled_from(
            ["TIMTextElem", "TIMCustomElem", "TIMFaceElem", "TIMLocationElem", "TIMImageElem", "TIMGroupTipElem"]
        )
        | values,
        "payload": st.fixed_dictionaries({"text": texts_short}) | values,
    },
    optional={
        "ID": st.text(max_size=20),
        "priority": st.sampled_from(["High", "Normal", "Low", "Lowest", "Urgent"]),
        "cloudCustomData": texts_short,
        "atUserList": st.lists(st.sampled_from(USER_IDS + ["__kImSDK_MesssAge_To_All__"]), max_size=3),
        "random": counts,
    },
)
# Plausible values for the schemas' argument names, so that many frames pass the
# envelope and reach an op's own checks (and some the op itself).
PLAUSIBLE = {
    "conversationID": st.sampled_from(CONVERSATION_IDS),
    "groupID": st.sampled_from(["g1", "demo", "nope", "@TGS#1", "x" * 60]),
    "userID": st.sampled_from(USER_IDS),
    "newOwnerID": st.sampled_from(USER_IDS),
    "userIDList": st.lists(st.sampled_from(USER_IDS), max_size=3),
    "count": counts,
    "offset": counts,
    "muteTime": counts,
    "message": messages,
    "messageList": st.lists(messages, max_size=2),
    "name": texts_short,
    "nameCard": texts_short,
    "introduction": texts_short,
    "notification": texts_short,
    "type": st.sampled_from(["Public", "Private", "ChatRoom", "AVChatRoom", "Work", "Meeting"]),
    "role": st.sampled_from(["Admin", "Member", "Owner"]),
    "memberList": st.lists(st.fixed_dictionaries({"userID": st.sampled_from(USER_IDS)}), max_size=3),
    "cursors": st.dictionaries(st.sampled_from(CONVERSATION_IDS), counts, max_size=2),
}


def op_args(op):
    fields = schemas.OPS[op].__struct_fields__
    return st.fixed_dictionaries({}, optional={f: PLAUSIBLE.get(f, values) | values for f in fields})


shaped = st.sampled_from(OP_NAMES).flatmap(lambda op: st.tuples(st.just(op), op_args(op)))
frame_ids = st.integers(min_value=-(2**70), max_value=2**70) | st.text(max_size=12) | st.none() | values
objects = (
    st.builds(lambda i, pair: {"id": i, "op": pair[0], "args": pair[1]}, frame_ids, shaped)
    | st.builds(lambda i, pair: {"id": i, "op": pair[0], "args": pair[1]}, st.integers(0, 10**6), shaped)
    | st.fixed_dictionaries({"id": frame_ids, "op": st.sampled_from(OP_NAMES + ["ping"]) | st.text(max_size=12) | values})
    | st.dictionaries(st.sampled_from(["id", "op", "args", "extra"]), values, max_size=4)
)

# Texts no JSON encoder makes: lone surrogates, nesting past any sane depth, numbers
# past 64 bits, control bytes, truncations, and frames past the size limit.
HOSTILE = [
    '{"id":"\\ud800","op":"ping"}',
    '{"id":1,"op":"sendMessage","args":{"message":{"to":"bob","conversationType":"C2C","type":"TIMTextElem","payload":{"text":"\\udfff"}}}}',
    '{"id":' + "[" * 1000 + "]" * 1000 + ',"op":"ping"}',
    '{"id":1,"op":"getMessageList","args":' + '{"a":' * 2000 + "1" + "}" * 2000 + "}",
    '{"id":1,"op":"getMessageList","args":{"conversationID":"C2Cbob","count":9223372036854775808}}',
    '{"id":1,"op":"getGroupMemberList","args":{"groupID":"g1","offset":9223372036854775808}}',
    '{"id":1,"op":"getGroupMemberList","args":{"groupID":"g1","offset":1e400}}',
    '{"id":123456789012345678901234567890,"op":"ping"}',
    '{"id":1,"op":"ping"',
    '{"id":1,"op":"ping"}}',
    "\x00\x01\x02",
    "null",
    '{"id":1,"op":"sendMessage","args":{"message":{"to":"bob","conversationType":"C2C","type":"TIMTextElem","payload":{"text":"'
    + "x" * 70_000
    + '"}}}}',
    '{"__proto__":{"op":"ping"},"id":1}',
]
texts = st.sampled_from(HOSTILE) | st.text(min_size=1, max_size=60)


BATCH = 25


def draw_frames(count):
    """``count`` frames (a multiple of ``BATCH``), reproducibly: 3 of 4 JSON objects
    shaped like requests, the rest raw text. Drawn in batches: hypothesis's cost is per
    example, not per frame."""
    drawn = []
    frame = st.one_of(objects.map(json.dumps), objects.map(json.dumps), objects.map(json.dumps), texts)

    @settings(
        max_examples=count // BATCH,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.lists(frame, min_size=BATCH, max_size=BATCH))
    def collect(texts):
        drawn.extend(texts)

    collect()
    return drawn


@pytest.mark.timeout(600)
async def test_ten_thousand_hostile_frames_each_get_a_reply_and_the_socket_stays_usable(open_tab, alice, bob):
    frames = draw_frames(FRAMES) + HOSTILE
    assert len(frames) >= FRAMES
    await database_sync_to_async(make_group)(alice, group_type="Public", members=["bob"])
    tab = await open_tab(alice)
    codes = {}
    succeeded = 0

    for index, text in enumerate(frames):
        reply = await tab.raw(text)
        assert set(reply) >= {"id", "ok"}, (index, text, reply)
        if not reply["ok"]:
            assert reply["code"] != ErrorCode.INTERNAL_ERROR, (index, text, reply)
            assert isinstance(reply["message"], str) and reply["message"], (index, text, reply)
            codes[reply["code"]] = codes.get(reply["code"], 0) + 1
        else:
            succeeded += 1
        tab.events.clear()

    # Still the same socket, still answering.
    assert (await tab.request("getMyProfile"))["userID"] == "alice"
    sent = await tab.send_text("bob", "still here")
    assert sent["payload"] == {"text": "still here"}
    # The draw reached the ops' validation and beyond, not only the envelope.
    assert {ErrorCode.JSON_PARSE_ERROR, ErrorCode.BAD_API_NAME, ErrorCode.INVALID_PARAMETERS} <= set(codes)
    assert len(codes) >= 8 and succeeded >= 200, (codes, succeeded)
