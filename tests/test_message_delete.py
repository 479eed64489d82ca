"""Delete for me: deleteMessage, clearHistoryMessage, setAllMessageRead (docs/PROTOCOL.md
§5.46–§5.48, §6.16): gone from my history, my lastMessage, my unread count and my sync,
and nobody else's; refusals write nothing; my other tab's events applied to its old
state equal a fresh fetch, and the peer's view is untouched."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from messaging import actions, rules
from messaging.errors import ErrorCode
from messaging.models import Conversation, Message, MessageDeletion
from messaging.queries import conversation_list, message_list, sync
from tests.chat_helpers import (  # noqa: F401
    assert_refused,
    conv,
    fast_passwords,
    make_group,
    send_group_text,
    send_text,
)
from tests.test_revoke_protocol import apply_events, comparable, ref, state
from tests.test_send_options import _make_avchatroom
from tests.ws import events_named


class Ref:
    """A ``{ID, conversationID}`` as the schema hands it to the action."""

    def __init__(self, message_id, conversation_id):
        self.ID, self.conversationID = message_id, conversation_id


def history_ids(user, conversation_id):
    return [m["ID"] for m in message_list.get_message_list(user, conversation_id)["messageList"]]


def profile(user, conversation_id):
    return conversation_list.get_conversation_profile(user, conversation_id)


# --- the actions -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_deleting_is_for_me_only_history_last_message_and_unread_follow(alice, bob):
    first = send_text(alice, "bob", "first")
    last = send_text(alice, "bob", "last")
    assert profile(bob, "C2Calice")["unreadCount"] == 2

    actions.delete_messages(bob, [Ref(last.msg_id, "C2Calice")])

    assert history_ids(bob, "C2Calice") == [first.msg_id]
    mine = profile(bob, "C2Calice")
    assert mine["unreadCount"] == 1, "an unread message deleted no longer counts"
    assert mine["lastMessage"]["ID"] == first.msg_id
    assert conversation_list.get_total_unread_count(bob) == 1
    assert history_ids(alice, "C2Cbob") == [first.msg_id, last.msg_id], "the sender's history is untouched"
    assert profile(alice, "C2Cbob")["lastMessage"]["ID"] == last.msg_id

    actions.delete_messages(bob, [Ref(first.msg_id, "C2Calice")])
    mine = profile(bob, "C2Calice")
    assert (mine["unreadCount"], mine["lastMessage"]) == (0, {})
    assert history_ids(bob, "C2Calice") == []

    # Recalling a message the receiver deleted does not take it off their count again.
    third = send_text(alice, "bob", "third")
    assert profile(bob, "C2Calice")["unreadCount"] == 1
    actions.revoke_message(alice, "C2Cbob", first.msg_id)
    assert profile(bob, "C2Calice")["unreadCount"] == 1
    assert profile(bob, "C2Calice")["lastMessage"]["ID"] == third.msg_id


@pytest.mark.django_db
def test_own_and_read_messages_do_not_change_the_count(alice, bob):
    mine = send_text(bob, "alice", "mine")
    theirs = send_text(alice, "bob", "theirs")
    actions.mark_read(bob, "C2Calice")
    send_text(alice, "bob", "unread")
    actions.delete_messages(bob, [Ref(mine.msg_id, "C2Calice"), Ref(theirs.msg_id, "C2Calice")])
    assert profile(bob, "C2Calice")["unreadCount"] == 1


@pytest.mark.django_db
def test_deleting_a_group_message_hides_its_mention_for_me_only(alice, bob, carol):
    make_group(alice, members=["bob", "carol"])
    sent = send_group_text(alice, "g1", "@all look", at_user_list=[rules.AT_ALL])
    assert profile(bob, "GROUPg1")["groupAtInfoList"]

    actions.delete_messages(bob, [Ref(sent.msg_id, "GROUPg1")])

    assert profile(bob, "GROUPg1")["groupAtInfoList"] == []
    assert sent.msg_id not in history_ids(bob, "GROUPg1")
    assert profile(carol, "GROUPg1")["groupAtInfoList"] and sent.msg_id in history_ids(carol, "GROUPg1")


@pytest.mark.django_db
def test_refusals_write_nothing(alice, bob, carol):
    sent = send_text(alice, "bob", "hi")
    other = send_text(alice, "carol", "hi")
    make_group(alice, members=["bob"])
    assert_refused(ErrorCode.MESSAGE_NOT_FOUND, actions.delete_messages, bob, [Ref("nope", "C2Calice")])
    # One unknown message among good ones: nothing is deleted.
    assert_refused(
        ErrorCode.MESSAGE_NOT_FOUND, actions.delete_messages, bob, [Ref(sent.msg_id, "C2Calice"), Ref("nope", "C2Calice")]
    )
    assert_refused(
        ErrorCode.DELETE_FAILED, actions.delete_messages, alice, [Ref(sent.msg_id, "C2Cbob"), Ref(other.msg_id, "C2Ccarol")]
    )
    assert_refused(ErrorCode.MESSAGE_NOT_FOUND, actions.delete_messages, carol, [Ref(sent.msg_id, "C2Calice")])
    assert_refused(ErrorCode.PERMISSION_DENIED, actions.delete_messages, carol, [Ref(sent.msg_id, "GROUPg1")])
    assert_refused(ErrorCode.PERMISSION_DENIED, actions.clear_history, carol, "GROUPg1")
    assert_refused(ErrorCode.GROUP_NOT_FOUND, actions.clear_history, carol, "GROUPnope")
    assert_refused(ErrorCode.INVALID_USER_ID, actions.clear_history, carol, "C2Cnobody")
    actions.delete_messages(bob, [Ref(sent.msg_id, "C2Calice")])
    assert_refused(ErrorCode.MESSAGE_NOT_FOUND, actions.delete_messages, bob, [Ref(sent.msg_id, "C2Calice")])


@pytest.mark.django_db
def test_system_notices_cannot_be_deleted_2116(alice, bob):
    make_group(alice, members=["bob"])  # bob gets a notice: added to the group
    notice = Message.objects.filter(thread__conversations__user=bob, thread__kind="@TIM#SYSTEM").first()
    assert notice is not None
    assert_refused(
        ErrorCode.SYSTEM_NOTICE_NOT_DELETABLE, actions.delete_messages, bob, [Ref(notice.msg_id, rules.SYSTEM_CONVERSATION_ID)]
    )
    assert_refused(ErrorCode.SYSTEM_NOTICE_NOT_DELETABLE, actions.clear_history, bob, rules.SYSTEM_CONVERSATION_ID)


@pytest.mark.django_db
def test_an_avchatrooms_messages_cannot_be_deleted_10035(alice, bob):
    _make_avchatroom(alice)
    sent = send_group_text(alice, "live", "live")
    assert_refused(ErrorCode.AVCHATROOM_NOT_DELETABLE, actions.delete_messages, bob, [Ref(sent.msg_id, "GROUPlive")])
    assert_refused(ErrorCode.AVCHATROOM_NOT_DELETABLE, actions.clear_history, bob, "GROUPlive")


@pytest.mark.django_db
def test_clearing_keeps_the_conversation_and_later_messages_show(alice, bob, carol):
    make_group(alice, members=["bob", "carol"])
    send_group_text(alice, "g1", "@bob one", at_user_list=["bob"])
    send_group_text(alice, "g1", "two")
    before_min = conv(bob, "GROUPg1").min_seq

    actions.clear_history(bob, "GROUPg1")

    assert history_ids(bob, "GROUPg1") == []
    cleared = profile(bob, "GROUPg1")
    assert (cleared["unreadCount"], cleared["lastMessage"], cleared["groupAtInfoList"]) == (0, {}, [])
    assert "GROUPg1" in [c["conversationID"] for c in conversation_list.get_conversation_list(bob)]
    assert conv(bob, "GROUPg1").min_seq == before_min, "min_seq (joins, receipts) is not the clear's cursor"
    assert len(history_ids(carol, "GROUPg1")) == len(history_ids(alice, "GROUPg1")) >= 2
    assert profile(carol, "GROUPg1")["unreadCount"] == 2

    later = send_group_text(alice, "g1", "three")
    assert history_ids(bob, "GROUPg1") == [later.msg_id]
    assert profile(bob, "GROUPg1")["unreadCount"] == 1
    # Nothing new to clear twice; a message from before the clear is not deletable.
    actions.clear_history(bob, "GROUPg1")
    again = actions.clear_history(bob, "GROUPg1")
    assert again.change == 0


@pytest.mark.django_db
def test_set_all_message_read_reads_every_conversation_of_the_scope(alice, bob, carol):
    make_group(alice, members=["bob", "carol"])
    send_text(alice, "bob", "c2c")
    send_text(carol, "bob", "c2c")
    send_group_text(alice, "g1", "group")

    assert actions.set_all_message_read(bob, rules.READ_ALL_C2C_MSG) == ["C2Calice", "C2Ccarol"]
    assert conversation_list.get_unread_map(bob) == {"GROUPg1": 1}
    actions.set_all_message_read(bob)
    assert conversation_list.get_total_unread_count(bob) == 0
    rows = Conversation.objects.filter(user=bob).select_related("thread")
    assert all(c.last_read_seq == c.thread.last_seq for c in rows.exclude(conversation_id=rules.SYSTEM_CONVERSATION_ID))
    assert conv(bob, rules.SYSTEM_CONVERSATION_ID).unread_count == 1, "the system conversation keeps its own count"
    assert actions.set_all_message_read(bob) == []


# --- sync after a deletion made elsewhere ------------------------------------------------------


@pytest.mark.django_db
def test_sync_brings_my_deletions_and_the_peer_only_its_cursor(alice, bob):
    kept = send_text(alice, "bob", "kept")
    gone = send_text(alice, "bob", "gone")
    cursor = conv(bob, "C2Calice").thread.last_change

    deletion = actions.delete_messages(bob, [Ref(gone.msg_id, "C2Calice")])

    [mine] = sync.sync(bob, {"C2Calice": cursor})["conversations"]
    assert (mine["deletedList"], mine["clearedSequence"], mine["syncCursor"]) == ([gone.msg_id], 0, deletion.change)
    assert mine["messageList"] == mine["changedList"] == []
    [theirs] = sync.sync(alice, {"C2Cbob": cursor})["conversations"]
    assert theirs == {"conversationID": "C2Cbob", "syncCursor": deletion.change, "messageList": [], "changedList": []}

    cleared = actions.clear_history(bob, "C2Calice")
    [mine] = sync.sync(bob, {"C2Calice": deletion.change})["conversations"]
    assert (mine["deletedList"], mine["clearedSequence"], mine["syncCursor"]) == ([], kept.seq + 1, cleared.change)
    assert MessageDeletion.objects.filter(user=bob).count() == 1


# --- over the socket ---------------------------------------------------------------------------

pytestmark_ws = pytest.mark.django_db(transaction=True)


def apply_deletions(old, events):
    """What tim.js does with MESSAGE_DELETED: the held messages dropped (by ID, or up to the
    cleared sequence); the rest as the revoke tests apply it."""
    history = list(old["history"])
    for frame in events:
        if frame["event"] == "MESSAGE_DELETED":
            data = frame["data"]
            history = [
                m for m in history if m["ID"] not in data["messageIDList"] and m["sequence"] > data.get("clearedSequence", 0)
            ]
    rest = [f for f in events if f["event"] != "MESSAGE_DELETED"]
    return apply_events(dict(old, history=history), rest)


@pytestmark_ws
async def test_my_other_tab_follows_a_deletion_and_a_clear_the_peer_sees_nothing(open_tab, alice, bob):
    a, b1, b2 = await open_tab(alice), await open_tab(bob), await open_tab(bob)
    first = await a.send_text("bob", "first")
    last = await a.send_text("bob", "last")
    for tab in (b1, b2):
        await tab.wait_event("MESSAGE_RECEIVED")
        await tab.wait_event("MESSAGE_RECEIVED")
    for tab in (a, b1, b2):
        await tab.drain()
    old_b2, old_a = await state(b2, "C2Calice"), await state(a, "C2Cbob")

    reply = await b1.request("deleteMessage", messageList=[ref(last, "C2Calice")])

    assert reply == {"conversationID": "C2Calice", "messageIDList": [last["ID"]]}
    events = await b2.drain(settle=0.3)
    [deleted] = events_named(events, "MESSAGE_DELETED")
    assert deleted == {"conversationID": "C2Calice", "messageIDList": [last["ID"]]}
    assert await b2.request("getTotalUnreadMessageCount") == {"totalUnreadCount": 1}
    assert events_named(events, "TOTAL_UNREAD_MESSAGE_COUNT_UPDATED") == [1]
    now = await state(b2, "C2Calice")
    assert comparable(apply_deletions(old_b2, events)) == comparable(now)
    assert [m["ID"] for m in now["history"]] == [first["ID"]]

    peer_events = await a.drain(settle=0.3)
    assert [e["event"] for e in peer_events] == ["CONVERSATION_LIST_UPDATED"]
    assert set(peer_events[0]["data"][0]) == {"conversationID", "syncCursor"}
    assert comparable(await state(a, "C2Cbob")) == comparable(old_a), "the peer's view is untouched"

    old_b2 = now
    assert await b1.request("clearHistoryMessage", conversationID="C2Calice") == {"conversationID": "C2Calice"}
    events = await b2.drain(settle=0.3)
    [cleared] = events_named(events, "MESSAGE_DELETED")
    assert cleared["clearedSequence"] == last["sequence"]
    now = await state(b2, "C2Calice")
    assert comparable(apply_deletions(old_b2, events)) == comparable(now)
    assert now["history"] == [] and now["total"] == 0
    assert now["conversations"][0]["lastMessage"] == {}
    # Clearing is reading: alice's messages are read by bob now; nothing else changed for her.
    after = await state(a, "C2Cbob")
    assert [m["ID"] for m in after["history"]] == [m["ID"] for m in old_a["history"]]
    assert all(m["isPeerRead"] for m in after["history"])
    assert events_named(await a.drain(settle=0.3), "MESSAGE_READ_BY_PEER")


@pytestmark_ws
async def test_clearing_a_deleted_conversation_does_not_bring_it_back(open_tab, alice, bob):
    a, b = await open_tab(alice), await open_tab(bob)
    await a.send_text("bob", "hi")
    await b.wait_event("MESSAGE_RECEIVED")
    await b.request("deleteConversation", conversationID="C2Calice")
    await b.drain()

    await b.request("clearHistoryMessage", conversationID="C2Calice")

    [patch] = events_named(await b.drain(settle=0.3), "CONVERSATION_LIST_UPDATED")[0]
    assert "lastMessage" not in patch and patch["unreadCount"] == 0
    assert (await b.request("getConversationList"))["conversationList"] == []


@pytestmark_ws
async def test_refusals_over_the_socket(open_tab, alice, bob):
    a = await open_tab(alice)
    sent = await a.send_text("bob", "hi")
    too_many = [ref(sent)] * 31
    await a.expect_error(ErrorCode.DELETE_FAILED, "deleteMessage", messageList=too_many)
    await a.expect_error(ErrorCode.DELETE_FAILED, "deleteMessage", messageList=[])
    await a.expect_error(ErrorCode.INVALID_CONVERSATION_ID, "deleteMessage", messageList=[{"ID": sent["ID"]}])
    await a.expect_error(ErrorCode.MESSAGE_NOT_FOUND, "deleteMessage", messageList=[{"ID": "x", "conversationID": "C2Cbob"}])
    await a.expect_error(ErrorCode.SET_ALL_READ_FAILED, "setAllMessageRead", scope="everything")
    await a.expect_error(ErrorCode.INVALID_PARAMETERS, "setAllMessageRead", other=1)
    await a.expect_error(ErrorCode.INVALID_CONVERSATION_ID, "clearHistoryMessage", conversationID="")


@pytestmark_ws
async def test_set_all_message_read_over_the_socket(open_tab, alice, bob, carol):
    a, b, c = await open_tab(alice), await open_tab(bob), await open_tab(carol)
    await a.send_text("bob", "one")
    await c.send_text("bob", "two")
    await b.wait_event("MESSAGE_RECEIVED")
    await b.wait_event("MESSAGE_RECEIVED")
    await b.drain()
    old = await state(b, "C2Calice")
    assert old["total"] == 2

    reply = await b.request("setAllMessageRead")

    assert sorted(reply["conversationIDList"]) == ["C2Calice", "C2Ccarol"]
    events = await b.drain(settle=0.3)
    assert comparable(apply_events(old, events)) == comparable(await state(b, "C2Calice"))
    assert events_named(events, "TOTAL_UNREAD_MESSAGE_COUNT_UPDATED")[-1] == 0
    assert events_named(await a.drain(settle=0.3), "MESSAGE_READ_BY_PEER")


@pytest.mark.django_db
def test_sync_reads_deletions_in_one_more_query_only_when_a_cursor_is_behind_one(alice, bob):
    sent = [send_text(alice, "bob", f"m{i}") for i in range(4)]
    cursor = conv(bob, "C2Calice").thread.last_change
    send_text(alice, "bob", "new")

    def count(cursors):
        with CaptureQueriesContext(connection) as captured:
            sync.sync(bob, cursors)
        return len(captured.captured_queries)

    plain = count({"C2Calice": cursor})
    actions.delete_messages(bob, [Ref(m.msg_id, "C2Calice") for m in sent])
    assert count({"C2Calice": cursor}) == plain + 1
    caught_up = conv(bob, "C2Calice").thread.last_change
    send_text(alice, "bob", "newer")
    assert count({"C2Calice": caught_up}) == plain, "a cursor past the deletion does not read them"
