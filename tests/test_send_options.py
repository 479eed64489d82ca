"""The SDK's send options over the socket (docs/PROTOCOL.md §5.1): onlineUserOnly,
messageControlInfo, a targeted group message's receiverList, and the combinations the
SDK forbids. Who gets which frame, what is stored, and the events applied to a tab's
old state equal a fresh fetch (Zulip's verify_action)."""

import pytest
from channels.db import database_sync_to_async

from messaging import actions
from messaging.models import Group, Message, MessageReceiver
from tests.chat_helpers import db_snapshot, fast_passwords, make_group, mute, send_group_text  # noqa: F401
from tests.test_revoke_protocol import apply_events, comparable, ref, state
from tests.test_sync import cursors_of, messages_of, sync_all
from tests.ws import events_named

pytestmark = pytest.mark.django_db(transaction=True)

TYPING = (
    '{"businessID":"user_typing_status","typingStatus":1,"version":1,"userAction":14,"actionParam":"EIMAMSG_InputStatus_Ing"}'
)


def custom(to, conversation_type="C2C", data=TYPING, **fields):
    return {"to": to, "conversationType": conversation_type, "type": "TIMCustomElem", "payload": {"data": data}, **fields}


def text(to, body="hi", conversation_type="GROUP", **fields):
    return {"to": to, "conversationType": conversation_type, "type": "TIMTextElem", "payload": {"text": body}, **fields}


async def send(tab, message, **options):
    return (await tab.request("sendMessage", message=message, options=options))["message"]


async def snapshot():
    return await database_sync_to_async(db_snapshot)()


async def team(owner, *members, group_type="Public"):
    await database_sync_to_async(make_group)(owner, group_type=group_type, members=list(members))


async def verify(tab, old, conversation_id, replies=()):
    """The events this tab got (after the messages it sent itself, which the SDK holds from
    its replies) applied to ``old`` equal a fresh fetch."""
    events = [{"event": "MESSAGE_RECEIVED", "data": [m]} for m in replies] + await tab.drain(settle=0.3)
    assert comparable(apply_events(old, events)) == comparable(await state(tab, conversation_id))
    return events


# --- onlineUserOnly ------------------------------------------------------------------------------


async def test_an_online_only_c2c_message_reaches_open_tabs_and_stores_nothing(open_tab, alice, bob, carol):
    a1, a2, b, c = await open_tab(alice), await open_tab(alice), await open_tab(bob), await open_tab(carol)
    before = await snapshot()

    sent = await send(a1, custom("bob"), onlineUserOnly=True)

    assert (sent["status"], sent["sequence"], sent["flow"], sent["conversationID"]) == ("success", 0, "out", "C2Cbob")
    assert sent["payload"]["data"] == TYPING
    frames = await b.drain()
    assert [f["event"] for f in frames] == ["MESSAGE_RECEIVED"], "no conversation patch, no total"
    [received] = frames[0]["data"]
    assert (received["ID"], received["flow"], received["conversationID"]) == (sent["ID"], "in", "C2Calice")
    assert b.bundled == 0, "the frame carries no conversation"
    [other_tab] = events_named(await a2.drain(), "MESSAGE_RECEIVED")
    assert (other_tab[0]["flow"], other_tab[0]["conversationID"]) == ("out", "C2Cbob")
    assert await a1.drain() == [] and await c.drain() == []
    assert await snapshot() == before, "no thread, no message, no conversation row"
    assert (await b.request("getMessageList", conversationID="C2Calice"))["messageList"] == []
    assert (await b.request("getConversationList"))["conversationList"] == []

    late = await open_tab(bob)
    assert await late.drain() == [], "never replayed to a socket that opens later"


async def test_an_online_only_group_message_reaches_the_members_open_tabs_only(open_tab, alice, bob, carol, dave):
    await team(alice, "bob", "carol")
    await database_sync_to_async(send_group_text)(alice, "g1", "stored before")
    a, b, c, d = await open_tab(alice), await open_tab(bob), await open_tab(carol), await open_tab(dave)
    old = await state(b, "GROUPg1")
    before = await snapshot()

    sent = await send(b, text("g1", "ping"), onlineUserOnly=True)

    for tab in (a, c):
        frames = await tab.drain()
        assert [f["event"] for f in frames] == ["MESSAGE_RECEIVED"]
        assert frames[0]["data"][0]["ID"] == sent["ID"] and frames[0]["data"][0]["flow"] == "in"
    assert await d.drain() == [] and await b.drain() == []
    assert await snapshot() == before
    assert comparable(await state(b, "GROUPg1")) == comparable(old), "history, lastMessage and unread as before"


async def test_an_online_only_message_is_checked_as_a_stored_one(open_tab, alice, bob, carol, dave):
    await team(alice, "bob", "carol")
    await database_sync_to_async(mute)("g1", carol, 600)
    b, c, d = await open_tab(bob), await open_tab(carol), await open_tab(dave)
    before = await snapshot()

    await c.expect_error(10017, "sendMessage", message=text("g1"), options={"onlineUserOnly": True})
    await d.expect_error(10007, "sendMessage", message=text("g1"), options={"onlineUserOnly": True})
    await b.expect_error(80002, "sendMessage", message=text("g1", "x" * 13000), options={"onlineUserOnly": True})
    await b.expect_error(10004, "sendMessage", message=text("g1", ""), options={"onlineUserOnly": True})
    await b.expect_error(20003, "sendMessage", message=custom("nobody"), options={"onlineUserOnly": True})
    image = {"to": "alice", "conversationType": "C2C", "type": "TIMImageElem", "payload": {"uuid": "0" * 32}}
    await b.expect_error(10004, "sendMessage", message=image, options={"onlineUserOnly": True})
    error = await b.expect_error(
        10004, "sendMessage", message=custom("alice"), options={"onlineUserOnly": True, "messageControlInfo": {}}
    )
    assert "messageControlInfo" in error.message

    assert await snapshot() == before
    assert await c.drain() == [] and await d.drain() == []


def _make_avchatroom(owner):
    """No action creates an AVChatRoom yet: a Public group retyped (tests/test_write_path.py)."""
    make_group(owner, group_type="Public", group_id="live", members=["bob"])
    Group.objects.filter(group_id="live").update(type=Group.Type.AVCHATROOM)


async def test_online_only_and_receiver_list_are_refused_in_an_avchatroom(open_tab, alice, bob):
    await database_sync_to_async(_make_avchatroom)(alice)
    a = await open_tab(alice)
    before = await snapshot()

    await a.expect_error(10004, "sendMessage", message=text("live"), options={"onlineUserOnly": True})
    await a.expect_error(10004, "sendMessage", message=text("live", receiverList=["bob"]))

    assert await snapshot() == before
    await send(a, text("live", "an ordinary message is fine"))


# --- messageControlInfo ----------------------------------------------------------------------


async def test_excluded_from_unread_count_is_stored_and_counts_for_nobody(open_tab, alice, bob, carol):
    await team(alice, "bob", "carol")
    a, b, c = await open_tab(alice), await open_tab(bob), await open_tab(carol)
    old = {tab: await state(tab, "GROUPg1") for tab in (a, b, c)}

    sent = await send(a, text("g1", "quiet"), messageControlInfo={"excludedFromUnreadCount": True})

    stored = await database_sync_to_async(Message.objects.get)(msg_id=sent["ID"])
    assert (stored.excluded_from_unread_count, stored.excluded_from_last_message) == (True, False)
    for tab in (b, c):
        events = await verify(tab, old[tab], "GROUPg1")
        [patch] = events_named(events, "CONVERSATION_LIST_UPDATED")[0]
        assert patch["unreadCount"] == 0 and patch["lastMessage"]["ID"] == sent["ID"]
    await verify(a, old[a], "GROUPg1", [sent])
    assert (await state(b, "GROUPg1"))["total"] == 0


async def test_excluded_from_last_message_leaves_every_last_message_and_still_counts(open_tab, alice, bob):
    a1, a2, b = await open_tab(alice), await open_tab(alice), await open_tab(bob)
    first = await a1.send_text("bob", "first")
    await b.wait_event("MESSAGE_RECEIVED")
    for tab in (a1, a2, b):
        await tab.drain()
    old = {tab: await state(tab, "C2Calice" if tab is b else "C2Cbob") for tab in (a1, a2, b)}

    sent = await send(a1, text("bob", "aside", "C2C"), messageControlInfo={"excludedFromLastMessage": True})

    events = await verify(b, old[b], "C2Calice")
    [patch] = events_named(events, "CONVERSATION_LIST_UPDATED")[0]
    assert "lastMessage" not in patch and patch["unreadCount"] == 2
    await verify(a2, old[a2], "C2Cbob")
    await verify(a1, old[a1], "C2Cbob", [sent])
    fresh = await state(b, "C2Calice")
    assert fresh["conversations"][0]["lastMessage"]["ID"] == first["ID"] and fresh["total"] == 2
    assert [m["ID"] for m in fresh["history"]] == [first["ID"], sent["ID"]], "stored for roaming"
    assert (await state(a1, "C2Cbob"))["conversations"][0]["lastMessage"]["ID"] == first["ID"], "the sender's too"


async def test_excluded_from_last_message_does_not_bring_back_a_deleted_conversation(open_tab, alice, bob):
    a, b = await open_tab(alice), await open_tab(bob)
    await a.send_text("bob", "first")
    await b.request("deleteConversation", conversationID="C2Calice")
    await b.drain()
    old = await state(b, "C2Calice")

    await send(a, text("bob", "aside", "C2C"), messageControlInfo={"excludedFromLastMessage": True})

    await verify(b, old, "C2Calice")
    fresh = await state(b, "C2Calice")
    assert fresh["conversations"] == [] and fresh["total"] == 0


async def test_excluded_from_content_moderation_is_stored(open_tab, alice, bob):
    a = await open_tab(alice)
    sent = await send(a, text("bob", "x", "C2C"), messageControlInfo={"excludedFromContentModeration": True})
    stored = await database_sync_to_async(Message.objects.get)(msg_id=sent["ID"])
    assert stored.excluded_from_content_moderation and not stored.excluded_from_unread_count


# --- receiverList ------------------------------------------------------------------------------


def only_the_change_number(events, old):
    """How many patches ``events`` holds, checking that they are all cursor-only patches that
    follow ``old``'s cursor one by one (a targeted message to others, or its recall)."""
    cursor = next(c for c in old["conversations"] if c["conversationID"] == "GROUPg1")["syncCursor"]
    patches = sum(events_named(events, "CONVERSATION_LIST_UPDATED"), [])
    assert [e["event"] for e in events] == ["CONVERSATION_LIST_UPDATED"] * len(events)
    assert patches == [{"conversationID": "GROUPg1", "syncCursor": cursor + i} for i in range(1, len(patches) + 1)]
    return len(patches)


async def test_a_targeted_message_is_seen_only_by_its_receivers_and_sender(open_tab, alice, bob, carol, dave):
    await team(alice, "bob", "carol", "dave")
    before_msg = await database_sync_to_async(send_group_text)(dave, "g1", "for all")
    a1, a2, b, c, d = (
        await open_tab(alice),
        await open_tab(alice),
        await open_tab(bob),
        await open_tab(carol),
        await open_tab(dave),
    )
    old = {tab: await state(tab, "GROUPg1") for tab in (a1, a2, b, c, d)}

    sent = await send(a1, text("g1", "just you two", receiverList=["bob", "carol", "bob"]))

    assert sent["receiverList"] == ["bob", "carol"] and sent["sequence"] == 3
    for tab in (b, c):
        events = await verify(tab, old[tab], "GROUPg1")
        [[received]] = events_named(events, "MESSAGE_RECEIVED")
        assert received["ID"] == sent["ID"] and received["receiverList"] == ["bob", "carol"]
        [patch] = events_named(events, "CONVERSATION_LIST_UPDATED")[0]
        assert patch["lastMessage"]["ID"] == sent["ID"] and patch["unreadCount"] == 1, "as before: not counted (TIM.md §10)"
    await verify(a2, old[a2], "GROUPg1")
    await verify(a1, old[a1], "GROUPg1", [sent])
    assert only_the_change_number(await d.drain(), old[d]) == 1
    assert comparable(await state(d, "GROUPg1")) == comparable(old[d]), "dave's history, lastMessage and unread are untouched"
    dave_history = (await d.request("getMessageList", conversationID="GROUPg1"))["messageList"]
    assert sent["ID"] not in [m["ID"] for m in dave_history] and before_msg.msg_id in [m["ID"] for m in dave_history]

    # Nor can dave reach it by its ID: forward, merge, recall, page cursor.
    await d.expect_error(10030, "sendMessage", message={"to": "bob", "conversationType": "C2C", "forward": ref(sent, "GROUPg1")})
    merged = {"messageList": [ref(sent, "GROUPg1")], "title": "t", "compatibleText": "c"}
    await d.expect_error(
        10030, "sendMessage", message={"to": "bob", "conversationType": "C2C", "type": "TIMRelayElem", "payload": merged}
    )
    await d.expect_error(10030, "revokeMessage", message=ref(sent, "GROUPg1"))
    await d.expect_error(10004, "getMessageList", conversationID="GROUPg1", nextReqMessageID=sent["ID"])
    await b.request("sendMessage", message={"to": "carol", "conversationType": "C2C", "forward": ref(sent, "GROUPg1")})


def test_sync_brings_a_targeted_message_and_its_recall_to_its_receivers_only(alice, bob, carol):
    def arrange():
        make_group(alice, group_type="Public", members=["bob", "carol"])
        return {user: cursors_of(user) for user in (alice, bob, carol)}

    before = arrange()
    targeted = send_group_text(alice, "g1", "to bob", receiver_list=["bob"])
    actions.revoke_message(alice, "GROUPg1", targeted.msg_id)
    to_all = send_group_text(alice, "g1", "to all")

    for user, expected in ((bob, ["to bob", "to all"]), (carol, ["to all"]), (alice, ["to bob", "to all"])):
        pages, cursors = sync_all(user, before[user])
        listed = [m["payload"].get("text", m["messageForShow"]) for m in messages_of(pages, "GROUPg1")]
        assert listed == [t if t != "to bob" else "Alice recalled a message" for t in expected], user
        assert cursors["GROUPg1"] == cursors_of(user)["GROUPg1"], "caught up to the thread's last change"
    # A client new to the conversation gets its unread messages: the ones carol may see.
    unread = messages_of(sync_all(carol, {})[0], "GROUPg1")
    assert [m["ID"] for m in unread if m["type"] == "TIMTextElem"] == [to_all.msg_id]
    assert targeted.msg_id not in [m["ID"] for m in unread]


async def test_the_others_get_a_targeted_messages_change_number_alone(open_tab, alice, bob, carol):
    """Their cursor follows without a gap, so no tab of theirs has to sync; and a sync
    from before it brings only what they may see."""
    await team(alice, "bob", "carol")
    a, c = await open_tab(alice), await open_tab(carol)
    [listed] = [c for c in (await c.request("getConversationList"))["conversationList"] if c["conversationID"] == "GROUPg1"]
    await send(a, text("g1", "to bob", receiverList=["bob"]))
    await send(a, text("g1", "to all"))

    events = await c.drain(settle=0.3)
    cursors = [p["syncCursor"] for p in sum(events_named(events, "CONVERSATION_LIST_UPDATED"), [])]
    assert cursors == [listed["syncCursor"] + 1, listed["syncCursor"] + 2]
    assert [m["payload"]["text"] for m in sum(events_named(events, "MESSAGE_RECEIVED"), [])] == ["to all"]
    page = await c.request("sync", cursors={"GROUPg1": listed["syncCursor"]})
    [entry] = [e for e in page["conversations"] if e["conversationID"] == "GROUPg1"]
    assert [m["payload"]["text"] for m in entry["messageList"]] == ["to all"]
    assert entry["syncCursor"] == cursors[-1]


async def test_recalling_a_targeted_message_reaches_only_its_sender_and_receivers(open_tab, alice, bob, carol):
    await team(alice, "bob", "carol")
    a, b, c = await open_tab(alice), await open_tab(bob), await open_tab(carol)
    sent = await send(b, text("g1", "oops", receiverList=["alice"]))
    for tab in (a, b, c):
        await tab.drain()
    old = {tab: await state(tab, "GROUPg1") for tab in (a, b, c)}

    reply = await b.request("revokeMessage", message=ref(sent))

    events = await verify(a, old[a], "GROUPg1")
    assert events_named(events, "MESSAGE_REVOKED")[0][0]["ID"] == sent["ID"]
    assert only_the_change_number(await c.drain(), old[c]) == 1, "the recall's"
    assert comparable(await state(c, "GROUPg1")) == comparable(old[c])
    assert reply["message"]["isRevoked"]


@pytest.mark.parametrize(
    "message, code",
    [
        (text("bob", conversation_type="C2C", receiverList=["bob"]), 10004),  # C2C
        (text("g1", atUserList=["bob"], receiverList=["bob"]), 10004),  # with @
        (text("g1", receiverList=["bob", "dave"]), 10004),  # dave is not a member
        (text("g1", receiverList=["bob", "nobody"]), 10004),  # no such user
        (text("g1", receiverList=[f"u{i}" for i in range(51)]), 10004),  # over 50
        (text("g1", receiverList=[""]), 10004),
    ],
)
async def test_invalid_receiver_lists_are_refused_and_store_nothing(open_tab, alice, bob, carol, dave, message, code):
    await team(alice, "bob", "carol")
    a, b = await open_tab(alice), await open_tab(bob)
    before = await snapshot()

    error = await a.expect_error(code, "sendMessage", message=message)

    assert error.message
    assert await snapshot() == before
    assert await database_sync_to_async(MessageReceiver.objects.count)() == 0
    assert await b.drain() == []


async def test_an_online_only_targeted_message_reaches_only_the_receivers(open_tab, alice, bob, carol):
    await team(alice, "bob", "carol")
    a, b, c = await open_tab(alice), await open_tab(bob), await open_tab(carol)
    before = await snapshot()

    sent = await send(a, custom("g1", "GROUP", receiverList=["bob"]), onlineUserOnly=True)

    [[received]] = events_named(await b.drain(), "MESSAGE_RECEIVED")
    assert received["ID"] == sent["ID"]
    assert await c.drain() == []
    assert await snapshot() == before


def test_a_targeted_send_through_the_action(alice, bob, carol):
    make_group(alice, group_type="Public", members=["bob", "carol"])
    stored = actions.send_message(
        alice, conversation_type="GROUP", to="g1", msg_type="TIMTextElem", payload={"text": "x"}, receiver_list=["bob"]
    ).message
    assert stored.is_targeted and stored.receiver_list == ["bob"]
    assert list(Message.objects.visible_to(carol).filter(pk=stored.pk)) == []
    assert list(Message.objects.visible_to(bob).filter(pk=stored.pk)) == [stored]
    assert list(Message.objects.visible_to(alice).filter(pk=stored.pk)) == [stored]
