"""Reply with a quote (issue 11 item 3; docs/PROTOCOL.md §4.4, §5.52, §5.53): a reply's
cloudCustomData in TUIKit's shape is checked lightly (it must name a message of the same
conversation the sender can read) and delivered as sent; getMessageListHopping and
findMessage open the history at an old message, with the access checks of
getMessageList and fixed query counts."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from messaging import actions, rules
from messaging.errors import ErrorCode
from messaging.queries import message_list
from tests.chat_helpers import (  # noqa: F401
    assert_refused,
    fast_passwords,
    make_group,
    send_group_text,
    send_text,
)
from tests.ws import ProtocolError


def reply_data(message_id, abstract="the original", sender="bob", **extra):
    """cloudCustomData as TUIKit writes it for a reply."""
    reply = {
        "messageID": message_id,
        "messageAbstract": abstract,
        "messageSender": sender,
        "messageType": 1,
        "messageTime": 0,
        "messageSequence": 0,
        "version": 1,
        **extra,
    }
    return json.dumps({"messageReply": reply})


def hop(user, conversation_id, **kwargs):
    return message_list.get_message_list_hopping(user, conversation_id, **kwargs)


def texts(page):
    return [m["payload"]["text"] for m in page["messageList"]]


# --- the reply's cloudCustomData ------------------------------------------------------------


def test_replied_message_id_reads_tuikits_shape_and_leaves_other_data_opaque():
    assert rules.replied_message_id(reply_data("m-1")) == "m-1"
    assert rules.replied_message_id("") is None
    assert rules.replied_message_id('{"quote":1}') is None
    assert rules.replied_message_id("not json messageReply") is None
    assert rules.replied_message_id('["messageReply"]') is None
    for bad in ('{"messageReply": 1}', '{"messageReply": {}}', '{"messageReply": {"messageID": 7}}'):
        with pytest.raises(ValueError):
            rules.replied_message_id(bad)


@pytest.mark.django_db
def test_a_reply_to_a_message_of_the_conversation_is_delivered_as_sent(alice, bob):
    original = send_text(bob, "alice", "the original")
    data = reply_data(original.msg_id, abstract="my own words", extra_key="kept")
    reply = actions.send_message(
        alice, conversation_type="C2C", to="bob", msg_type="TIMTextElem", payload={"text": "yes"}, cloud_custom_data=data
    )
    assert reply.message.cloud_custom_data == data
    shown = message_list.get_message_list(bob, "C2Calice")["messageList"][-1]
    assert shown["cloudCustomData"] == data, "the server adds nothing and changes nothing"


@pytest.mark.django_db
def test_a_reply_naming_a_message_the_sender_cannot_read_is_refused_and_writes_nothing(alice, bob, carol):
    elsewhere = send_text(bob, "carol", "bob to carol secret")
    make_group(alice, group_id="team", members=["bob"])
    in_team = send_group_text(bob, "team", "team message")
    before_join = send_group_text(alice, "team", "before carol joined")
    actions.add_members(alice, "team", ["carol"])
    cleared = send_text(bob, "alice", "cleared later")
    actions.clear_history(alice, "C2Cbob")

    def reply(sender, to, message_id, conversation_type="C2C"):
        return actions.send_message(
            sender,
            conversation_type=conversation_type,
            to=to,
            msg_type="TIMTextElem",
            payload={"text": "re"},
            cloud_custom_data=reply_data(message_id),
        )

    code = ErrorCode.INVALID_PARAMETERS
    assert_refused(code, reply, alice, "bob", elsewhere.msg_id)  # another conversation's
    assert_refused(code, reply, alice, "bob", in_team.msg_id)  # a group's, in a C2C reply
    assert_refused(code, reply, carol, "team", before_join.msg_id, "GROUP")  # before carol joined
    assert_refused(code, reply, alice, "bob", cleared.msg_id)  # cleared by alice
    assert_refused(code, reply, alice, "bob", "no-such-id")
    error = assert_refused(code, reply, alice, "bob", elsewhere.msg_id)
    assert "secret" not in error.message
    after_join = send_group_text(bob, "team", "after carol joined")
    reply(carol, "team", after_join.msg_id, "GROUP")  # a member's reply in the group is fine


# --- getMessageListHopping ------------------------------------------------------------------


@pytest.fixture
def thirty(alice, bob):
    """30 messages bob -> alice: "m1" … "m30", sequences 1 … 30."""
    return [send_text(bob, "alice", f"m{n}") for n in range(1, 31)]


@pytest.mark.django_db
def test_hopping_up_and_down_from_a_sequence(alice, thirty):
    up = hop(alice, "C2Cbob", sequence=10, count=4)
    assert texts(up) == ["m7", "m8", "m9", "m10"], "up: the message at the position and older, oldest first"
    assert (up["isCompleted"], up["nextMessageSeq"]) == (False, 6)
    down = hop(alice, "C2Cbob", sequence=10, count=4, direction=1)
    assert texts(down) == ["m10", "m11", "m12", "m13"]
    assert (down["isCompleted"], down["nextMessageSeq"]) == (False, 14)
    assert hop(alice, "C2Cbob", sequence=3, count=4)["isCompleted"] is True
    end = hop(alice, "C2Cbob", sequence=28, direction=1)
    assert texts(end) == ["m28", "m29", "m30"]
    assert (end["isCompleted"], end["nextMessageSeq"]) == (True, 0)
    assert len(hop(alice, "C2Cbob", sequence=30, count=99)["messageList"]) == 15, "count is cut to 15"


@pytest.mark.django_db
def test_hopping_by_time(alice, thirty):
    time = message_list.get_message_list(alice, "C2Cbob")["messageList"][-1]["time"]
    assert texts(hop(alice, "C2Cbob", time=time, count=2)) == ["m29", "m30"]
    assert hop(alice, "C2Cbob", time=time + 3600, direction=1)["messageList"] == []
    with pytest.raises(Exception) as info:
        hop(alice, "C2Cbob", sequence=3, time=time)
    assert info.value.code == ErrorCode.INVALID_PARAMETERS


@pytest.mark.django_db
def test_hopping_shows_nothing_before_the_cleared_or_joined_point(alice, bob, carol, thirty):
    actions.delete_messages(alice, [type("Ref", (), {"ID": thirty[11].msg_id, "conversationID": "C2Cbob"})()])
    assert "m12" not in texts(hop(alice, "C2Cbob", sequence=14, count=5)), "deleted for me"
    send_text(alice, "bob", "after")
    actions.clear_history(alice, "C2Cbob")
    assert hop(alice, "C2Cbob", sequence=10)["messageList"] == []
    assert texts(hop(bob, "C2Calice", sequence=2)) == ["m1", "m2"], "the peer's history is untouched"

    make_group(alice, group_id="team", members=["bob"])
    send_group_text(alice, "team", "before carol")
    actions.add_members(alice, "team", ["carol"])
    send_group_text(alice, "team", "after carol")
    seen = [m for m in hop(carol, "GROUPteam", sequence=1, direction=1)["messageList"] if m["type"] == "TIMTextElem"]
    assert [m["payload"]["text"] for m in seen] == ["after carol"]


@pytest.mark.django_db
@pytest.mark.parametrize("size", [3, 30])
def test_hopping_and_find_message_query_counts_are_fixed(alice, bob, carol, size, django_assert_num_queries):
    make_group(alice, group_id="team", members=["bob", "carol"])
    sent = [send_group_text((bob, carol)[n % 2], "team", f"g{n}") for n in range(size)]
    send_text(bob, "alice", "c2c")
    with django_assert_num_queries(3):  # the conversation, the page, the name cards
        hop(alice, "GROUPteam", sequence=2, direction=1)
    with django_assert_num_queries(2):  # C2C: no name cards
        hop(alice, "C2Cbob", sequence=1)
    with django_assert_num_queries(3):
        message_list.find_message(alice, "GROUPteam", sent[0].msg_id)
    latest = send_text(bob, "alice", "x")
    with CaptureQueriesContext(connection) as queries:
        message_list.find_message(alice, "C2Cbob", latest.msg_id)
    assert len(queries) == 2, [q["sql"] for q in queries]


# --- findMessage ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_find_message_answers_the_sequence_of_a_readable_message_only(alice, bob, carol, thirty):
    found = message_list.find_message(alice, "C2Cbob", thirty[4].msg_id)["message"]
    assert (found["ID"], found["sequence"], found["payload"]["text"], found["flow"]) == (thirty[4].msg_id, 5, "m5", "in")
    elsewhere = send_text(carol, "bob", "carol secret")
    for conversation_id, message_id in (("C2Cbob", elsewhere.msg_id), ("C2Ccarol", thirty[0].msg_id), ("C2Cbob", "nope")):
        with pytest.raises(Exception) as info:
            message_list.find_message(alice, conversation_id, message_id)
        assert info.value.code == ErrorCode.MESSAGE_NOT_FOUND
    actions.revoke_message(bob, "C2Calice", thirty[4].msg_id)
    recalled = message_list.find_message(alice, "C2Cbob", thirty[4].msg_id)["message"]
    assert recalled["isRevoked"] is True and recalled["payload"] == {}, "a recalled original says so, no content"


# --- over the socket ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_ops_over_the_socket_with_access_checks(open_tab, alice, bob, carol):
    a = await open_tab(alice)
    b = await open_tab(bob)
    c = await open_tab(carol)
    first = await b.send_text("alice", "first")
    for n in range(20):
        await b.send_text("alice", f"n{n}")
    reply = await a.send_text("bob", "answer", cloudCustomData=reply_data(first["ID"], abstract="first"))
    assert json.loads(reply["cloudCustomData"])["messageReply"]["messageID"] == first["ID"]

    found = await a.request("findMessage", conversationID="C2Cbob", messageID=first["ID"])
    assert found["message"]["sequence"] == first["sequence"] == 1
    page = await a.request("getMessageListHopping", conversationID="C2Cbob", sequence=1, direction=1, count=5)
    assert [m["ID"] for m in page["messageList"]][0] == first["ID"]
    assert page["nextMessageSeq"] == 6 and page["isCompleted"] is False

    # carol cannot find or hop in alice's and bob's chat, nor reply to its messages.
    await c.expect_error(ErrorCode.MESSAGE_NOT_FOUND, "findMessage", conversationID="C2Cbob", messageID=first["ID"])
    empty = await c.request("getMessageListHopping", conversationID="C2Cbob", sequence=1, direction=1)
    assert empty["messageList"] == [], "carol's own (empty) chat with bob"
    text = {"to": "bob", "conversationType": "C2C", "type": "TIMTextElem", "payload": {"text": "x"}}
    error = await c.expect_error(
        ErrorCode.INVALID_PARAMETERS, "sendMessage", message={**text, "cloudCustomData": reply_data(first["ID"])}
    )
    assert "first" not in error.message

    make = await a.request("createGroup", name="Team", type="Private", groupID="team", memberList=[{"userID": "bob"}])
    assert make
    await c.expect_error(ErrorCode.GROUP_NOT_FOUND, "findMessage", conversationID="GROUPnosuch", messageID="x")
    for op, args in (("findMessage", {"messageID": "x"}), ("getMessageListHopping", {"sequence": 1})):
        try:
            await c.request(op, conversationID="GROUPteam", **args)
        except ProtocolError as refusal:
            assert refusal.code in (ErrorCode.PERMISSION_DENIED, ErrorCode.GROUP_NOT_FOUND)
        else:
            raise AssertionError(f"{op} in a group carol is not in succeeded")
    await a.expect_error(ErrorCode.INVALID_PARAMETERS, "getMessageListHopping", conversationID="C2Cbob")
    await a.expect_error(ErrorCode.INVALID_PARAMETERS, "getMessageListHopping", conversationID="C2Cbob", sequence=1, direction=2)
    await a.expect_error(ErrorCode.INVALID_PARAMETERS, "findMessage", conversationID="C2Cbob", messageID="")
    for tab in (a, b, c):
        await tab.close()
