"""The WebSocket protocol at /ws/chat/ with several users and tabs, over the real ASGI stack.

Positive deliveries are awaited with ``wait_event``; "nothing else arrived" is checked
with ``drain`` after the last expected frame of that socket.
"""

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from chatsite.asgi import application
from messaging import actions
from messaging.events import collect_events, send_events
from tests.chat_helpers import db_snapshot, fast_passwords, make_group  # noqa: F401
from tests.conftest import session_cookie
from tests.ws import events_named

pytestmark = pytest.mark.django_db(transaction=True)


def names(events):
    return [e["event"] for e in events]


async def collect(tab, name, n):
    """The data of the next ``n`` pushes called ``name``."""
    return [await tab.wait_event(name) for _ in range(n)]


async def snapshot():
    return await database_sync_to_async(db_snapshot)()


# --- delivery ---------------------------------------------------------------------------


async def test_c2c_message_reaches_every_recipient_tab_and_the_senders_other_tab(open_tab, alice, bob, carol):
    a1, a2 = await open_tab(alice), await open_tab(alice)
    b1, b2 = await open_tab(bob), await open_tab(bob)
    c = await open_tab(carol)

    sent = await a1.send_text("bob", "hi bob")

    for tab in (b1, b2):
        [received] = await tab.wait_event("MESSAGE_RECEIVED")
        assert (received["ID"], received["flow"], received["conversationID"]) == (sent["ID"], "in", "C2Calice")
        assert received["payload"] == {"text": "hi bob"}
    [echo] = await a2.wait_event("MESSAGE_RECEIVED")
    assert (echo["ID"], echo["flow"], echo["conversationID"]) == (sent["ID"], "out", "C2Cbob")
    await a1.wait_event("CONVERSATION_LIST_UPDATED")
    assert "MESSAGE_RECEIVED" not in names(await a1.drain())
    assert await c.drain() == []


async def test_group_message_reaches_every_member_tab_but_not_the_sending_tab(open_tab, alice, bob, carol, dave):
    a1, a2 = await open_tab(alice), await open_tab(alice)
    b, c, d = await open_tab(bob), await open_tab(carol), await open_tab(dave)
    await a1.request("createGroup", type="Public", name="Team", groupID="team", memberList=[{"userID": "bob"}, "carol"])
    for tab in (a1, a2, b, c):
        await tab.wait_event("GROUP_LIST_UPDATED")
        await tab.drain()

    sent = await a1.send_text("team", "hello team", conversation_type="GROUP")

    for tab, flow in ((a2, "out"), (b, "in"), (c, "in")):
        [received] = await tab.wait_event("MESSAGE_RECEIVED")
        assert (received["ID"], received["flow"], received["conversationID"]) == (sent["ID"], flow, "GROUPteam")
    await a1.wait_event("CONVERSATION_LIST_UPDATED")
    assert "MESSAGE_RECEIVED" not in names(await a1.drain())
    assert await d.drain() == []


async def test_send_reply_carries_the_stored_message(open_tab, alice, bob):
    a = await open_tab(alice)

    sent = await a.send_text("bob", "hi", ID="client-7", priority="High", cloudCustomData="meta")

    assert sent["ID"] == "client-7"
    assert (sent["status"], sent["flow"], sent["sequence"], sent["to"], sent["from"]) == ("success", "out", 1, "bob", "alice")
    assert (sent["priority"], sent["cloudCustomData"], sent["conversationID"]) == ("High", "meta", "C2Cbob")


async def test_resend_over_the_socket_returns_the_same_message_and_delivers_once(open_tab, alice, bob):
    a, b = await open_tab(alice), await open_tab(bob)

    first = await a.send_text("bob", "once", ID="client-1")
    again = await a.send_text("bob", "once", ID="client-1")

    assert (again["ID"], again["sequence"]) == (first["ID"], first["sequence"])
    await b.wait_event("MESSAGE_RECEIVED")
    assert "MESSAGE_RECEIVED" not in names(await b.drain(settle=0.3))


# --- unread as absolute values -------------------------------------------------------------


async def test_conversation_patches_and_total_carry_absolute_unread(open_tab, alice, bob):
    a = await open_tab(alice)
    b1, b2 = await open_tab(bob), await open_tab(bob)

    await a.send_text("bob", "one")
    await a.send_text("bob", "two")

    for tab in (b1, b2):
        patches = await collect(tab, "CONVERSATION_LIST_UPDATED", 2)
        assert [(p[0]["conversationID"], p[0]["unreadCount"]) for p in patches] == [("C2Calice", 1), ("C2Calice", 2)]
        assert patches[1][0]["lastMessage"]["messageForShow"] == "two"
        assert await collect(tab, "TOTAL_UNREAD_MESSAGE_COUNT_UPDATED", 2) == [1, 2]
    mine = await collect(a, "CONVERSATION_LIST_UPDATED", 2)
    assert [p[0]["unreadCount"] for p in mine] == [0, 0]
    assert "TOTAL_UNREAD_MESSAGE_COUNT_UPDATED" not in names(await a.drain())


def captured(action, *args, **kwargs):
    """Run an action and keep its committed events instead of sending them."""
    with collect_events() as events:
        action(*args, **kwargs)
    return events


def text_to_bob(sender, text):
    return captured(
        actions.send_message, sender, conversation_type="C2C", to="bob", msg_type="TIMTextElem", payload={"text": text}
    )


async def test_an_older_unread_count_arriving_late_does_not_win(open_tab, alice, bob):
    """Events published by different processes can arrive out of order. A count older than
    the one the socket holds (an earlier message's, after a later message's or after the
    read that covered it) is not applied: the frame comes without ``unreadCount``, the
    read's patch not at all, and the total stays right."""
    b = await open_tab(bob)
    first = await database_sync_to_async(text_to_bob)(alice, "one")
    second = await database_sync_to_async(text_to_bob)(alice, "two")

    await send_events(second)
    await send_events(first)
    patches = await collect(b, "CONVERSATION_LIST_UPDATED", 2)
    assert [(p[0]["lastMessage"]["messageForShow"], p[0].get("unreadCount")) for p in patches] == [("two", 2), ("one", None)]
    assert await collect(b, "TOTAL_UNREAD_MESSAGE_COUNT_UPDATED", 1) == [2]
    assert "TOTAL_UNREAD_MESSAGE_COUNT_UPDATED" not in names(await b.drain())

    # Read (covering "three"), then "four"; they arrive as four, the read, three.
    third = await database_sync_to_async(text_to_bob)(alice, "three")
    read = await database_sync_to_async(captured)(actions.mark_read, bob, "C2Calice")
    fourth = await database_sync_to_async(text_to_bob)(alice, "four")
    for events in (fourth, read, third):
        await send_events(events)
    patches = await collect(b, "CONVERSATION_LIST_UPDATED", 2)
    assert [(p[0]["lastMessage"]["messageForShow"], p[0].get("unreadCount")) for p in patches] == [("four", 1), ("three", None)]
    assert await collect(b, "TOTAL_UNREAD_MESSAGE_COUNT_UPDATED", 1) == [1]
    assert set(names(await b.drain())) == {"MESSAGE_RECEIVED"}  # no read patch, no other total
    assert (await b.request("getTotalUnreadMessageCount"))["totalUnreadCount"] == 1

    # A read that arrives after the message it covered: the message's count is old.
    fifth = await database_sync_to_async(text_to_bob)(alice, "five")
    read = await database_sync_to_async(captured)(actions.mark_read, bob, "C2Calice")
    for events in (read, fifth):
        await send_events(events)
    patches = await collect(b, "CONVERSATION_LIST_UPDATED", 2)
    assert [p[0].get("unreadCount") for p in patches] == [0, None]
    assert await collect(b, "TOTAL_UNREAD_MESSAGE_COUNT_UPDATED", 1) == [0]
    assert "TOTAL_UNREAD_MESSAGE_COUNT_UPDATED" not in names(await b.drain())


async def test_total_unread_adds_up_across_conversations(open_tab, alice, bob, carol):
    a, b, c = await open_tab(alice), await open_tab(bob), await open_tab(carol)

    await a.send_text("bob", "from alice")
    assert await b.wait_event("TOTAL_UNREAD_MESSAGE_COUNT_UPDATED") == 1
    await c.send_text("bob", "from carol")
    assert await b.wait_event("TOTAL_UNREAD_MESSAGE_COUNT_UPDATED") == 2

    assert (await b.request("getTotalUnreadMessageCount"))["totalUnreadCount"] == 2


async def test_a_new_tab_starts_with_the_stored_total(open_tab, alice, bob):
    a = await open_tab(alice)
    await a.send_text("bob", "one")
    await a.send_text("bob", "two")

    b = await open_tab(bob)

    assert b.initial_unread == 2


async def test_set_message_read_notifies_the_peer_and_zeroes_every_reader_tab(open_tab, alice, bob):
    a = await open_tab(alice)
    b1, b2 = await open_tab(bob), await open_tab(bob)
    first = await a.send_text("bob", "one")
    second = await a.send_text("bob", "two")
    for tab in (b1, b2):
        await collect(tab, "TOTAL_UNREAD_MESSAGE_COUNT_UPDATED", 2)
        await tab.drain()
    await a.drain()

    await b1.request("setMessageRead", conversationID="C2Calice")

    read = await a.wait_event("MESSAGE_READ_BY_PEER")
    assert [m["ID"] for m in read] == [first["ID"], second["ID"]]
    assert all(m["isPeerRead"] and m["conversationID"] == "C2Cbob" for m in read)
    for tab in (b1, b2):
        [patch] = await tab.wait_event("CONVERSATION_LIST_UPDATED")
        assert (patch["conversationID"], patch["unreadCount"]) == ("C2Calice", 0)
        assert await tab.wait_event("TOTAL_UNREAD_MESSAGE_COUNT_UPDATED") == 0


async def test_set_message_read_twice_sends_nothing_the_second_time(open_tab, alice, bob):
    a, b = await open_tab(alice), await open_tab(bob)
    await a.send_text("bob", "one")
    await b.request("setMessageRead", conversationID="C2Calice")
    await a.wait_event("MESSAGE_READ_BY_PEER")
    while await b.wait_event("TOTAL_UNREAD_MESSAGE_COUNT_UPDATED") != 0:
        pass
    await a.drain()
    await b.drain()

    await b.request("setMessageRead", conversationID="C2Calice")

    assert await a.drain() == []
    assert await b.drain() == []


async def test_peer_read_shows_in_the_senders_history(open_tab, alice, bob):
    a, b = await open_tab(alice), await open_tab(bob)
    await a.send_text("bob", "one")
    await b.request("setMessageRead", conversationID="C2Calice")
    await a.wait_event("MESSAGE_READ_BY_PEER")

    history = await a.request("getMessageList", conversationID="C2Cbob")

    assert [m["isPeerRead"] for m in history["messageList"]] == [True]


# --- groups over the socket ------------------------------------------------------------------


async def test_create_join_quit_deliver_tips_and_group_list_updates(open_tab, alice, bob, carol, dave):
    a, b, c, d = await open_tab(alice), await open_tab(bob), await open_tab(carol), await open_tab(dave)

    created = await a.request("createGroup", type="Public", name="Open", groupID="open", memberList=[{"userID": "bob"}])
    assert created["group"]["groupID"] == "open" and created["group"]["selfInfo"]["role"] == "Owner"
    for tab in (a, b):
        [tip] = await tab.wait_event("MESSAGE_RECEIVED")
        assert (tip["type"], tip["payload"]["operationType"], tip["payload"]["userIDList"]) == (
            "TIMGroupTipElem",
            1,
            ["bob"],
        )
        assert tip["payload"]["groupJoinType"] == 2  # invited by alice
        assert [g["groupID"] for g in await tab.wait_event("GROUP_LIST_UPDATED")] == ["open"]
        await tab.drain()

    joined = await c.request("joinGroup", groupID="open")
    assert joined["status"] == "JoinedSuccess"
    for tab in (a, b, c):
        [tip] = await tab.wait_event("MESSAGE_RECEIVED")
        assert (tip["payload"]["operationType"], tip["payload"]["operatorID"], tip["payload"]["userIDList"]) == (
            1,
            "carol",
            ["carol"],
        )
    assert [g["groupID"] for g in await c.wait_event("GROUP_LIST_UPDATED")] == ["open"]
    for tab in (a, b):
        assert "GROUP_LIST_UPDATED" not in names(await tab.drain())
    await c.drain()

    await b.request("quitGroup", groupID="open")
    for tab in (a, c):
        [tip] = await tab.wait_event("MESSAGE_RECEIVED")
        assert (tip["payload"]["operationType"], tip["payload"]["operatorID"], tip["payload"]["userIDList"]) == (
            2,
            "bob",
            ["bob"],
        )
    assert await b.wait_event("GROUP_LIST_UPDATED") == []
    [gone] = await b.wait_event("CONVERSATION_LIST_UPDATED")
    assert gone == {"conversationID": "GROUPopen", "deleted": True}
    # Nothing more of the group; his own "You left Open" in the system conversation.
    [[notice]] = events_named(await b.drain(), "MESSAGE_RECEIVED")
    assert (notice["conversationID"], notice["payload"]["operationType"]) == ("@TIM#SYSTEM", 8)
    assert notice["messageForShow"] == "You left Open"
    assert await d.drain() == []


async def test_kicked_member_gets_group_list_loses_the_conversation_and_its_unread(open_tab, alice, bob, carol):
    a, b, c = await open_tab(alice), await open_tab(bob), await open_tab(carol)
    await a.request("createGroup", type="Private", name="Work", groupID="w", memberList=["bob", "carol"])
    for tab in (a, b, c):
        await tab.wait_event("GROUP_LIST_UPDATED")
    await c.send_text("w", "unread by bob", conversation_type="GROUP")
    assert await b.wait_event("TOTAL_UNREAD_MESSAGE_COUNT_UPDATED") == 1
    await a.wait_event("MESSAGE_RECEIVED")
    await c.wait_event("CONVERSATION_LIST_UPDATED")
    for tab in (a, b, c):
        await tab.drain()

    await a.request("deleteGroupMember", groupID="w", userIDList=["bob"])

    for tab in (a, c):
        [tip] = await tab.wait_event("MESSAGE_RECEIVED")
        assert (tip["payload"]["operationType"], tip["payload"]["operatorID"], tip["payload"]["userIDList"]) == (
            3,
            "alice",
            ["bob"],
        )
    assert await b.wait_event("GROUP_LIST_UPDATED") == []
    [gone] = await b.wait_event("CONVERSATION_LIST_UPDATED")
    assert gone["deleted"] is True
    assert await b.wait_event("TOTAL_UNREAD_MESSAGE_COUNT_UPDATED") == 0
    await b.expect_error(10007, "getMessageList", conversationID="GROUPw")


# --- errors --------------------------------------------------------------------------------


async def test_malformed_json_is_10011_and_the_socket_stays_open(open_tab, alice):
    a = await open_tab(alice)

    reply = await a.raw("{not json")

    assert (reply["ok"], reply["code"]) == (False, 10011)
    assert (await a.request("getMyProfile"))["userID"] == "alice"


async def test_a_frame_that_is_not_an_object_is_10011(open_tab, alice):
    a = await open_tab(alice)
    reply = await a.raw("[1, 2]")
    assert (reply["ok"], reply["code"]) == (False, 10011)


async def test_oversized_frame_is_10004(open_tab, alice):
    a = await open_tab(alice)
    reply = await a.raw(json.dumps({"id": 1, "op": "getMyProfile", "args": {"pad": "x" * 70_000}}))
    assert (reply["ok"], reply["code"]) == (False, 10004)


async def test_binary_frame_is_10004(open_tab, alice):
    a = await open_tab(alice)
    await a.communicator.send_to(bytes_data=b'{"id": 1, "op": "getMyProfile"}')
    reply = json.loads(await a.communicator.receive_from())
    assert (reply["ok"], reply["code"]) == (False, 10004)


async def test_unknown_op_is_10003(open_tab, alice):
    a = await open_tab(alice)

    reply = await a.raw(json.dumps({"id": 9, "op": "dropDatabase", "args": {}}))

    assert reply == {**reply, "id": 9, "ok": False, "code": 10003}


@pytest.mark.parametrize("args", [[], "x", 5, None])
async def test_args_that_are_not_an_object_are_10004(open_tab, alice, args):
    a = await open_tab(alice)

    reply = await a.raw(json.dumps({"id": 3, "op": "getConversationList", "args": args}))

    assert reply == {**reply, "id": 3, "ok": False, "code": 10004}


async def test_error_reply_carries_the_sdk_code_and_a_message(open_tab, alice, bob):
    a = await open_tab(alice)
    error = await a.expect_error(
        80002,
        "sendMessage",
        message={"to": "bob", "conversationType": "C2C", "type": "TIMTextElem", "payload": {"text": "a" * 13000}},
    )
    assert error.message


async def test_non_member_cannot_read_a_groups_messages(open_tab, alice, bob, carol):
    a = await open_tab(alice)
    await a.request("createGroup", type="Public", name="Team", groupID="team", memberList=["bob"])
    await a.send_text("team", "members only", conversation_type="GROUP")
    c = await open_tab(carol)

    await c.expect_error(10007, "getMessageList", conversationID="GROUPteam")


async def test_non_member_send_is_10007_and_changes_nothing(open_tab, alice, bob, carol):
    a, b = await open_tab(alice), await open_tab(bob)
    await a.request("createGroup", type="Public", name="Team", groupID="team", memberList=["bob"])
    for tab in (a, b):
        await tab.wait_event("GROUP_LIST_UPDATED")
        await tab.drain()
    c = await open_tab(carol)
    before = await snapshot()

    await c.expect_error(
        10007,
        "sendMessage",
        message={"to": "team", "conversationType": "GROUP", "type": "TIMTextElem", "payload": {"text": "hi"}},
    )

    assert await snapshot() == before
    assert await a.drain() == []
    assert await b.drain() == []


async def test_muted_member_send_is_10017_over_the_socket(open_tab, alice, bob):
    a = await open_tab(alice)
    await a.request("createGroup", type="Public", name="Team", groupID="team", memberList=["bob"])
    await database_sync_to_async(actions.mute_member)(alice, "team", "bob", 3600)
    b = await open_tab(bob)

    await b.expect_error(
        10017,
        "sendMessage",
        message={"to": "team", "conversationType": "GROUP", "type": "TIMTextElem", "payload": {"text": "hi"}},
    )


async def test_sending_to_the_system_conversation_is_2106(open_tab, alice):
    a = await open_tab(alice)
    await a.expect_error(
        2106,
        "sendMessage",
        message={"to": "", "conversationType": "@TIM#SYSTEM", "type": "TIMTextElem", "payload": {"text": "hi"}},
    )


# --- who may open a socket ---------------------------------------------------------------------


async def connect(headers):
    """How the socket ends up: False (refused at the handshake, HTTP 403), the close
    code it is closed with right after the handshake, or True (open: it says hello)."""
    communicator = WebsocketCommunicator(application, "/ws/chat/", headers=headers)
    connected, _ = await communicator.connect()
    if not connected:
        return False
    output = await communicator.receive_output(timeout=3)
    if output["type"] == "websocket.close":
        return output["code"]
    assert json.loads(output["text"])["event"] == "hello"
    await communicator.disconnect()
    return True


async def test_socket_without_a_session_is_closed_with_4001(alice):
    """Accepted, then closed with 4001, so the SDK knows to log in again rather than retry."""
    assert await connect([(b"host", b"localhost"), (b"origin", b"http://localhost")]) == 4001


async def test_socket_with_a_bogus_session_is_closed_with_4001(alice):
    assert await connect([(b"host", b"localhost"), (b"origin", b"http://localhost"), (b"cookie", b"sessionid=forged")]) == 4001


async def test_socket_from_a_foreign_origin_is_refused(alice):
    cookie = await database_sync_to_async(session_cookie)(alice)
    headers = [(b"host", b"localhost"), (b"cookie", f"sessionid={cookie}".encode())]

    assert await connect([*headers, (b"origin", b"http://evil.example")]) is False
    assert await connect([*headers, (b"origin", b"http://localhost")]) is True


async def test_socket_of_a_banned_user_is_closed_with_4001(alice):
    cookie = await database_sync_to_async(session_cookie)(alice)
    await database_sync_to_async(actions.set_user_active)(alice, False)

    headers = [(b"host", b"localhost"), (b"origin", b"http://localhost"), (b"cookie", f"sessionid={cookie}".encode())]
    assert await connect(headers) == 4001


# --- events agree with a refetch (Zulip's verify_action) -----------------------------------------


def apply_patches(conversation_list, patches):
    """The client's merge: each CONVERSATION_LIST_UPDATED item patches the entry by conversationID."""
    merged = {c["conversationID"]: dict(c) for c in conversation_list}
    for patch in patches:
        for item in patch:
            if item.get("deleted"):
                merged.pop(item["conversationID"], None)
            else:
                fields = {k: v for k, v in item.items() if k != "seenCursor"}  # not a field (§6.3)
                merged.setdefault(item["conversationID"], {}).update(fields)
    return merged


async def test_conversation_events_applied_to_the_old_list_equal_a_fresh_list(open_tab, alice, bob, carol):
    a, b, c = await open_tab(alice), await open_tab(bob), await open_tab(carol)
    await a.send_text("bob", "earlier")
    await b.wait_event("TOTAL_UNREAD_MESSAGE_COUNT_UPDATED")
    await b.drain()
    old = (await b.request("getConversationList"))["conversationList"]

    await a.send_text("bob", "one")
    await a.send_text("bob", "two")
    await c.send_text("bob", "three")
    patches = await collect(b, "CONVERSATION_LIST_UPDATED", 3)
    totals = events_named(await b.drain(), "TOTAL_UNREAD_MESSAGE_COUNT_UPDATED")

    fresh = (await b.request("getConversationList"))["conversationList"]
    merged = apply_patches(old, patches)
    assert set(merged) == {f["conversationID"] for f in fresh} == {"C2Calice", "C2Ccarol"}
    for entry in fresh:
        patched = merged[entry["conversationID"]]
        assert patched["unreadCount"] == entry["unreadCount"]
        assert patched["lastMessage"]["ID"] == entry["lastMessage"]["ID"]
        assert patched["lastMessage"] == entry["lastMessage"]
    assert totals[-1] == sum(f["unreadCount"] for f in fresh) == 4


async def test_deleting_a_c2c_conversation_tells_the_peer_what_a_refetch_shows(open_tab, alice, bob):
    """deleteConversation counts the conversation as read: the peer's isPeerRead from events equals its history."""
    a, b = await open_tab(alice), await open_tab(bob)
    sent = [await a.send_text("bob", text) for text in ("one", "two")]
    await collect(b, "TOTAL_UNREAD_MESSAGE_COUNT_UPDATED", 2)
    await a.drain()
    await b.drain()

    await b.request("deleteConversation", conversationID="C2Calice")

    read = await a.wait_event("MESSAGE_READ_BY_PEER")
    assert [(m["ID"], m["isPeerRead"]) for m in read] == [(s["ID"], True) for s in sent]
    history = (await a.request("getMessageList", conversationID="C2Cbob"))["messageList"]
    assert [m["isPeerRead"] for m in history] == [True, True]
    [patch] = await b.wait_event("CONVERSATION_LIST_UPDATED")
    assert patch == {"conversationID": "C2Calice", "deleted": True}
    assert await b.wait_event("TOTAL_UNREAD_MESSAGE_COUNT_UPDATED") == 0
    assert (await b.request("getConversationList"))["conversationList"] == []


async def test_group_and_meeting_events_applied_to_the_old_list_equal_a_fresh_list(open_tab, alice, bob, carol):
    a, b, c = await open_tab(alice), await open_tab(bob), await open_tab(carol)
    await a.request("createGroup", type="Private", name="Work", groupID="work", memberList=["bob", "carol"])
    await a.request("createGroup", type="ChatRoom", name="Meet", groupID="meet", memberList=["bob", "carol"])
    await collect(b, "GROUP_LIST_UPDATED", 2)
    await b.drain()
    old = (await b.request("getConversationList"))["conversationList"]

    await a.send_text("work", "w1", conversation_type="GROUP")
    await c.send_text("meet", "m1", conversation_type="GROUP")
    await c.send_text("work", "w2", conversation_type="GROUP")
    patches = await collect(b, "CONVERSATION_LIST_UPDATED", 3)
    totals = events_named(await b.drain(), "TOTAL_UNREAD_MESSAGE_COUNT_UPDATED")

    fresh = (await b.request("getConversationList"))["conversationList"]
    merged = apply_patches(old, patches)
    # (and bob's two "alice added you" notices, apart from the total)
    assert {f["conversationID"]: f["unreadCount"] for f in fresh} == {"GROUPwork": 2, "GROUPmeet": 0, "@TIM#SYSTEM": 2}
    for entry in fresh:
        patched = merged[entry["conversationID"]]
        assert patched["unreadCount"] == entry["unreadCount"]
        assert patched["lastMessage"] == entry["lastMessage"]
    assert totals == [1, 2]


# --- thread channel groups ---------------------------------------------------------------------


async def test_a_thread_group_send_reaches_only_the_listed_recipients(open_tab, alice, bob, carol):
    """Group messages go to the thread's channel group in one send; a socket still in
    that group whose user is not among the recipients (removed a moment ago) drops it."""
    from channels.layers import get_channel_layer

    from messaging.events import thread_group
    from messaging.models import Group

    await database_sync_to_async(make_group)(alice, "Public", "g1", members=["bob", "carol"])
    a, b, c = await open_tab(alice), await open_tab(bob), await open_tab(carol)
    thread_id = await database_sync_to_async(lambda: Group.objects.get(group_id="g1").thread_id)()
    await a.send_text("g1", "to everyone", conversation_type="GROUP")
    for tab in (b, c):
        [got] = await tab.wait_event("MESSAGE_RECEIVED")
        assert got["payload"]["text"] == "to everyone"
    for tab in (a, b, c):
        await tab.drain()

    # meta["to"] (events.pack_recipients) and the recipient list it replaced
    for sequence, meta in ((99, {"to": {"0": 4}, "unread": {}}), (100, {"recipients": ["0"], "unread": {}})):
        forged = {
            "type": "chat.event",
            "event": "MESSAGE_RECEIVED",
            "origin": None,
            "data": {"conversationType": "GROUP", "to": "g1", "sequence": sequence, "from": "alice", "ID": "x"},
            "meta": meta,
        }
        await get_channel_layer().group_send(thread_group(thread_id), forged)

        for tab in (a, b, c):
            assert names(await tab.drain()) == []


async def test_a_new_member_gets_messages_sent_right_after_the_add(open_tab, alice, bob, carol):
    """Sent before the new member's socket follows the group's channel: caught up after."""
    a, b = await open_tab(alice), await open_tab(bob)
    await a.request("createGroup", type="Private", name="Now", groupID="now", memberList=[{"userID": "bob"}])
    first = await a.send_text("now", "first words", conversation_type="GROUP")
    second = await a.send_text("now", "second words", conversation_type="GROUP")

    received = []
    for _ in range(4):
        received += await b.wait_event("MESSAGE_RECEIVED")
    # (bob's "alice added you" notice is in his system conversation)
    received = [m for m in received if m["conversationID"] != "@TIM#SYSTEM"]
    assert [m["type"] for m in received] == ["TIMGroupTipElem", "TIMTextElem", "TIMTextElem"]
    assert [m["ID"] for m in received[1:]] == [first["ID"], second["ID"]]
    assert all(m["conversationID"] == "GROUPnow" and m["flow"] == "in" for m in received)
    assert "MESSAGE_RECEIVED" not in names(await b.drain())  # each once

    await a.request("addGroupMember", groupID="now", userIDList=["carol"])
    c = await open_tab(carol)
    third = await a.send_text("now", "third words", conversation_type="GROUP")
    [got] = await c.wait_event("MESSAGE_RECEIVED")
    assert got["ID"] == third["ID"]


def test_an_op_on_postgresql_runs_in_a_pool_thread_between_two_connection_checks(monkeypatch):
    """``run_op``'s own hop (``_run_op_in_pool``): the op runs in a database thread, with
    stale connections closed before and after it as ``DatabaseSyncToAsync`` does, and
    its reply and committed events come back."""
    import asyncio
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from messaging import consumers

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chat-db")
    monkeypatch.setattr(consumers, "uses_postgresql", lambda: True)
    monkeypatch.setattr(consumers, "_db_executor", pool)
    calls = []
    monkeypatch.setattr(consumers, "close_old_connections", lambda: calls.append("close"))

    def handler(user, args, origin):
        calls.append(threading.current_thread().name)
        return {"echo": args}

    try:
        data, events = asyncio.run(consumers.run_op(handler, None, {"n": 1}, "", "sendMessage"))
    finally:
        pool.shutdown()
    assert (data, events) == ({"echo": {"n": 1}}, [])
    assert calls[0] == calls[2] == "close" and calls[1].startswith("chat-db") and len(calls) == 3


def test_catch_up_reads_leave_a_database_thread_free_for_the_other_ops(monkeypatch, settings):
    """In a reconnect storm hundreds of syncs arrive at once: at most DB_THREADS - 1 of
    them hold a database thread, and a send that comes after them does not wait behind
    them all (consumers.run_op, CATCH_UP_OPS)."""
    import asyncio

    from messaging import conf, consumers

    threads = conf.get("DB_THREADS")
    running = {"now": 0, "most": 0}
    order = []

    def fake_thread(func):
        async def run(handler, user, args, origin, op, client):
            running["now"] += 1
            running["most"] = max(running["most"], running["now"])
            await asyncio.sleep(0.02 if op == "sync" else 0)
            running["now"] -= 1
            order.append(op)
            return None, []

        return run

    monkeypatch.setattr(consumers, "in_database_thread", fake_thread)

    async def storm():
        syncs = [asyncio.create_task(consumers.run_op(None, None, {}, "", "sync")) for _ in range(40)]
        await asyncio.sleep(0)
        await consumers.run_op(None, None, {}, "", "sendMessage")
        sends_done_after = order.count("sync")
        await asyncio.gather(*syncs)
        return sends_done_after

    syncs_before_the_send = asyncio.run(storm())
    assert running["most"] == threads  # DB_THREADS - 1 syncs and the send
    assert syncs_before_the_send < threads  # the send did not queue behind the 40 syncs
    assert order.count("sync") == 40
