"""Read receipts over the socket (docs/PROTOCOL.md §5.22–5.24, §6.10): the counts, who gets
MESSAGE_READ_RECEIPT_RECEIVED, every refusal, the batching, and the events applied to a
sender's old state equal a fresh getMessageReadReceiptList (Zulip's verify_action)."""

import asyncio

import pytest
from channels.db import database_sync_to_async

from messaging import actions, rules
from messaging.receipt_relay import merge_notice
from messaging.schemas import MessageRef
from tests.chat_helpers import db_snapshot, fast_passwords, make_group  # noqa: F401
from tests.ws import events_named

pytestmark = pytest.mark.django_db(transaction=True)

EVENT = "MESSAGE_READ_RECEIPT_RECEIVED"


@pytest.fixture(autouse=True)
def short_window(settings):
    settings.CHAT = {"READ_RECEIPT_WINDOW": 0.05}


def ref(message, conversation_id=None):
    return {"ID": message["ID"], "conversationID": conversation_id or message["conversationID"]}


async def group_of_four(alice):
    await database_sync_to_async(make_group)(alice, group_type="Public", members=["bob", "carol", "dave"])


async def send_asking(tab, to, text, conversation_type="GROUP"):
    return await tab.send_text(to, text, conversation_type=conversation_type, needReadReceipt=True)


async def infos(tab, messages, conversation_id):
    reply = await tab.request("getMessageReadReceiptList", messageList=[ref(m, conversation_id) for m in messages])
    return {m["ID"]: m["readReceiptInfo"] for m in reply["messageList"]}


async def test_a_group_receipt_reaches_the_senders_tabs_with_the_counts(open_tab, alice, bob, carol, dave):
    await group_of_four(alice)
    a1, a2, b, c = await open_tab(alice), await open_tab(alice), await open_tab(bob), await open_tab(carol)
    sent = await send_asking(a1, "g1", "did you read this?")
    assert sent["needReadReceipt"] is True
    for tab in (a1, a2, b, c):
        await tab.drain()
    assert await infos(a1, [sent], "GROUPg1") == {
        sent["ID"]: {"readCount": 0, "unreadCount": 3, "isPeerRead": False, "timestamp": 0}
    }

    assert await b.request("sendMessageReadReceipt", messageList=[ref(sent, "GROUPg1")]) == {}

    expected = {
        "conversationID": "GROUPg1",
        "groupID": "g1",
        "userID": "",
        "messageID": sent["ID"],
        "readCount": 1,
        "unreadCount": 2,
        "isPeerRead": False,
        "timestamp": 0,
    }
    assert await a1.wait_event(EVENT) == [expected]
    assert await a2.wait_event(EVENT) == [expected]
    assert await b.drain() == [] and await c.drain() == []
    # A receipt is not setMessageRead: bob's unread count stays.
    conversations = (await b.request("getConversationList"))["conversationList"]
    assert conversations[0]["unreadCount"] == 1
    # Any member sees the counts; the sender's history is unchanged.
    assert (await infos(c, [sent], "GROUPg1"))[sent["ID"]]["readCount"] == 1

    # A repeat moves nothing and sends nothing.
    await b.request("sendMessageReadReceipt", messageList=[ref(sent, "GROUPg1")])
    assert events_named(await a1.drain(0.2), EVENT) == []


async def test_the_member_lists_page_through_read_and_unread_members(open_tab, alice, bob, carol, dave):
    await group_of_four(alice)
    a, b, d = await open_tab(alice), await open_tab(bob), await open_tab(dave)
    sent = await send_asking(a, "g1", "roll call")
    await b.request("sendMessageReadReceipt", messageList=[ref(sent, "GROUPg1")])

    read = await d.request("getGroupMessageReadMemberList", message=ref(sent, "GROUPg1"), filter=0)
    assert read == {"isCompleted": True, "cursor": "", "messageID": sent["ID"], "readUserIDList": ["bob"]}
    first = await a.request("getGroupMessageReadMemberList", message=ref(sent), filter=1, count=1)
    assert (first["isCompleted"], first["unreadUserIDList"]) == (False, ["carol"]) and first["cursor"]
    second = await a.request("getGroupMessageReadMemberList", message=ref(sent), filter=1, count=1, cursor=first["cursor"])
    assert second == {"isCompleted": True, "cursor": "", "messageID": sent["ID"], "unreadUserIDList": ["dave"]}
    # The page is cut to 100, as getGroupMemberList's.
    everyone = await a.request("getGroupMessageReadMemberList", message=ref(sent), filter=1, count=1000)
    assert everyone["unreadUserIDList"] == ["carol", "dave"]


async def test_a_c2c_receipt_sets_is_peer_read_in_the_receipt_info_only(open_tab, alice, bob):
    a, b = await open_tab(alice), await open_tab(bob)
    sent = await send_asking(a, "bob", "read?", conversation_type="C2C")
    await b.wait_event("MESSAGE_RECEIVED")
    await a.drain()
    before = (await infos(a, [sent], "C2Cbob"))[sent["ID"]]
    assert before == {"readCount": 0, "unreadCount": 1, "isPeerRead": False, "timestamp": 0}

    await b.request("sendMessageReadReceipt", messageList=[ref(sent, "C2Calice")])

    [item] = await a.wait_event(EVENT)
    assert (item["conversationID"], item["userID"], item["groupID"], item["messageID"]) == ("C2Cbob", "bob", "", sent["ID"])
    assert item["isPeerRead"] is True and item["timestamp"] > 0
    assert (await infos(a, [sent], "C2Cbob"))[sent["ID"]] == {k: item[k] for k in before}
    # Neither the message's isPeerRead (setMessageRead's) nor bob's unread count moved.
    history = (await a.request("getMessageList", conversationID="C2Cbob"))["messageList"]
    assert history[-1]["isPeerRead"] is False
    assert (await b.request("getTotalUnreadMessageCount"))["totalUnreadCount"] == 1


async def test_a_receipt_covers_the_earlier_messages_it_passed(open_tab, alice, bob, carol):
    await database_sync_to_async(make_group)(alice, group_type="Public", members=["bob", "carol"])
    a, b, c = await open_tab(alice), await open_tab(bob), await open_tab(carol)
    first = await send_asking(a, "g1", "one")
    plain = await a.send_text("g1", "no receipt asked", conversation_type="GROUP")
    second = await send_asking(c, "g1", "two")
    await a.drain()
    await c.drain()

    await b.request("sendMessageReadReceipt", messageList=[ref(second, "GROUPg1")])

    [to_alice] = await a.wait_event(EVENT)
    [to_carol] = await c.wait_event(EVENT)
    assert (to_alice["messageID"], to_alice["readCount"], to_alice["unreadCount"]) == (first["ID"], 1, 1)
    assert (to_carol["messageID"], to_carol["readCount"], to_carol["unreadCount"]) == (second["ID"], 1, 1)
    counts = await infos(a, [first, plain], "GROUPg1")
    assert counts[plain["ID"]] == {"readCount": 0, "unreadCount": 0, "isPeerRead": False, "timestamp": 0}


async def test_members_who_joined_later_are_not_counted(open_tab, alice, bob, carol):
    await database_sync_to_async(make_group)(alice, group_type="Public", members=["bob"])
    a, b = await open_tab(alice), await open_tab(bob)
    sent = await send_asking(a, "g1", "before carol")
    await a.request("addGroupMember", groupID="g1", userIDList=["carol"])
    await b.request("sendMessageReadReceipt", messageList=[ref(sent, "GROUPg1")])
    assert (await infos(a, [sent], "GROUPg1"))[sent["ID"]] == {
        "readCount": 1,
        "unreadCount": 0,
        "isPeerRead": False,
        "timestamp": 0,
    }


async def test_refusals_write_nothing(open_tab, alice, bob, carol, dave):
    await database_sync_to_async(make_group)(alice, group_type="Public", members=["bob", "carol"])
    a, b, d = await open_tab(alice), await open_tab(bob), await open_tab(dave)
    asking = await send_asking(a, "g1", "ask")
    plain = await a.send_text("g1", "plain", conversation_type="GROUP")
    c2c = await send_asking(a, "bob", "c2c", conversation_type="C2C")
    before = await database_sync_to_async(db_snapshot)()

    # 2114: nothing that asked for a receipt from bob; the sender's own message never does.
    await b.expect_error(2114, "sendMessageReadReceipt", messageList=[ref(plain, "GROUPg1")])
    await a.expect_error(2114, "sendMessageReadReceipt", messageList=[ref(asking)])
    # 10030: a message bob cannot see; 10004: empty, too many, several conversations, bad shape.
    await b.expect_error(
        10030, "sendMessageReadReceipt", messageList=[ref(asking, "GROUPg1"), {"ID": "nope", "conversationID": "GROUPg1"}]
    )
    await b.expect_error(10004, "sendMessageReadReceipt", messageList=[])
    many = [{"ID": f"m{i}", "conversationID": "GROUPg1"} for i in range(rules.READ_RECEIPT_MAX_MESSAGES + 1)]
    await b.expect_error(10004, "sendMessageReadReceipt", messageList=many)
    await b.expect_error(10004, "getMessageReadReceiptList", messageList=many)
    await b.expect_error(10004, "sendMessageReadReceipt", messageList=[ref(asking, "GROUPg1"), ref(c2c, "C2Calice")])
    await b.expect_error(2503, "sendMessageReadReceipt", messageList=[{"ID": asking["ID"]}])
    await b.expect_error(10004, "sendMessageReadReceipt", messageList=[{"conversationID": "GROUPg1"}])
    await b.expect_error(2503, "sendMessageReadReceipt", messageList=[{"ID": "x", "conversationID": "nope"}])
    # A non-member reads and writes nothing (10007).
    await d.expect_error(10007, "sendMessageReadReceipt", messageList=[ref(asking, "GROUPg1")])
    await d.expect_error(10007, "getMessageReadReceiptList", messageList=[ref(asking, "GROUPg1")])
    await d.expect_error(10007, "getGroupMessageReadMemberList", message=ref(asking, "GROUPg1"))
    # A C2C stranger: no such message in their (empty) conversation with alice.
    await d.expect_error(10030, "getMessageReadReceiptList", messageList=[ref(c2c, "C2Calice")])
    await d.expect_error(10030, "sendMessageReadReceipt", messageList=[ref(c2c, "C2Calice")])
    # 10062: no receipt information (not asked for, or not a group message).
    await a.expect_error(10062, "getGroupMessageReadMemberList", message=ref(plain))
    await a.expect_error(10062, "getGroupMessageReadMemberList", message=ref(c2c))
    await a.expect_error(10030, "getGroupMessageReadMemberList", message={"ID": "nope", "conversationID": "GROUPg1"})
    await a.expect_error(10004, "getGroupMessageReadMemberList", message=ref(asking), filter=2)
    await a.expect_error(10004, "getGroupMessageReadMemberList", message=ref(asking), count=0)
    await a.expect_error(10004, "getGroupMessageReadMemberList", message=ref(asking), cursor="not a cursor")

    assert await database_sync_to_async(db_snapshot)() == before
    assert await database_sync_to_async(receipt_cursors)() == {}


def receipt_cursors():
    from messaging.models import Conversation

    return dict(Conversation.objects.filter(receipt_seq__gt=0).values_list("pk", "receipt_seq"))


def test_receipts_are_asked_for_everywhere_but_in_an_avchatroom():
    assert rules.receipts_supported(None) and rules.receipts_supported("Public") and rules.receipts_supported("ChatRoom")
    assert not rules.receipts_supported("AVChatRoom")


# --- the events applied to the old state equal a fresh fetch -------------------------------------


def apply_receipts(old, events):
    """What tim.js does with the event: each item's counts replace the held message's."""
    state = {mid: dict(info) for mid, info in old.items()}
    for items in events_named(events, EVENT):
        for item in items:
            if item["messageID"] in state:
                state[item["messageID"]] = {k: item[k] for k in ("readCount", "unreadCount", "isPeerRead", "timestamp")}
    return state


async def test_events_applied_to_the_senders_old_counts_equal_a_fresh_fetch(open_tab, alice, bob, carol, dave):
    await group_of_four(alice)
    a, b, c, d = await open_tab(alice), await open_tab(alice), await open_tab(carol), await open_tab(dave)
    reader_b = await open_tab(bob)
    sent = [await send_asking(a, "g1", f"m{i}") for i in range(3)]
    await a.send_text("g1", "plain", conversation_type="GROUP")
    own_by_carol = await send_asking(c, "g1", "carol asks too")
    old = await infos(a, sent, "GROUPg1")
    await a.drain()

    await reader_b.request("sendMessageReadReceipt", messageList=[ref(sent[1], "GROUPg1")])
    await c.request("sendMessageReadReceipt", messageList=[ref(sent[0], "GROUPg1")])
    await d.request("sendMessageReadReceipt", messageList=[ref(sent[2], "GROUPg1"), ref(own_by_carol, "GROUPg1")])
    await asyncio.sleep(0.2)

    events = await a.drain(0.2)
    assert apply_receipts(old, events) == await infos(a, sent, "GROUPg1")
    assert apply_receipts(old, events) != old
    assert events_named(await b.drain(), EVENT), "the sender's other tab is told too"


async def test_c2c_events_applied_to_the_old_state_equal_a_fresh_fetch(open_tab, alice, bob):
    a, b = await open_tab(alice), await open_tab(bob)
    sent = [await send_asking(a, "bob", f"c{i}", conversation_type="C2C") for i in range(2)]
    old = await infos(a, sent, "C2Cbob")
    await b.request("sendMessageReadReceipt", messageList=[ref(sent[0], "C2Calice")])
    await asyncio.sleep(0.1)
    await b.request("sendMessageReadReceipt", messageList=[ref(sent[1], "C2Calice")])
    await asyncio.sleep(0.2)
    assert apply_receipts(old, await a.drain(0.2)) == await infos(a, sent, "C2Cbob")


# --- batching ---------------------------------------------------------------------------------------


async def test_many_readers_at_once_are_few_frames_to_the_sender(open_tab, settings, alice):
    settings.CHAT = {"READ_RECEIPT_WINDOW": 1.0}
    readers = await database_sync_to_async(make_readers)(alice, 50)
    a = await open_tab(alice)
    sent = await send_asking(a, "big", "everyone please read")
    await a.drain()
    message = [MessageRef(ID=sent["ID"], conversationID="GROUPbig")]

    def read_all():
        for reader in readers:
            actions.send_message_read_receipt(reader, message)

    started = asyncio.get_running_loop().time()
    await database_sync_to_async(read_all)()
    assert asyncio.get_running_loop().time() - started < 1.0, "the readers were not 'at once'"
    frames = []
    while not frames or frames[-1][0]["readCount"] < 50:
        frames.append(await a.wait_event(EVENT, timeout=3))

    assert len(frames) <= 3, f"{len(frames)} frames for 50 receipts"
    assert frames[-1] == [
        {
            "conversationID": "GROUPbig",
            "groupID": "big",
            "userID": "",
            "messageID": sent["ID"],
            "readCount": 50,
            "unreadCount": 0,
            "isPeerRead": False,
            "timestamp": 0,
        }
    ]
    assert events_named(await a.drain(1.2), EVENT) == []


def make_readers(owner, n):
    readers = [actions.create_user(f"reader{i:03d}") for i in range(n)]
    make_group(owner, group_type="Public", group_id="big", members=[r.username for r in readers])
    return readers


def test_notices_merge_into_one_range_per_thread():
    pending = {}
    merge_notice(pending, {"thread": 1, "after": 4, "upto": 6})
    merge_notice(pending, {"thread": 1, "after": 0, "upto": 5})
    merge_notice(pending, {"thread": 2, "after": 1, "upto": 2})
    assert pending == {1: {"thread": 1, "after": 0, "upto": 6}, 2: {"thread": 2, "after": 1, "upto": 2}}


async def test_a_sender_who_left_the_group_is_told_nothing(open_tab, alice, bob, carol):
    await database_sync_to_async(make_group)(alice, group_type="Private", members=["bob", "carol"])
    a, b = await open_tab(alice), await open_tab(bob)
    sent = await send_asking(a, "g1", "bye")
    await a.request("quitGroup", groupID="g1")
    await a.drain()

    await b.request("sendMessageReadReceipt", messageList=[ref(sent, "GROUPg1")])

    assert events_named(await a.drain(0.3), EVENT) == []
    await a.expect_error(10007, "getMessageReadReceiptList", messageList=[ref(sent, "GROUPg1")])


async def test_a_targeted_message_counts_only_its_receivers(open_tab, alice, bob, carol, dave):
    await group_of_four(alice)
    a, b, c = await open_tab(alice), await open_tab(bob), await open_tab(carol)
    sent = await a.send_text("g1", "just bob", conversation_type="GROUP", needReadReceipt=True, receiverList=["bob"])
    assert (await infos(a, [sent], "GROUPg1"))[sent["ID"]]["unreadCount"] == 1

    # Carol may not see it: she can neither confirm it nor read its receipts.
    await c.expect_error(10030, "sendMessageReadReceipt", messageList=[ref(sent, "GROUPg1")])
    await c.expect_error(10030, "getMessageReadReceiptList", messageList=[ref(sent, "GROUPg1")])
    await c.expect_error(10030, "getGroupMessageReadMemberList", message=ref(sent, "GROUPg1"))
    # A later message that carol confirms passes it: it still counts only bob.
    later = await send_asking(a, "g1", "everyone")
    await c.request("sendMessageReadReceipt", messageList=[ref(later, "GROUPg1")])
    assert (await infos(a, [sent], "GROUPg1"))[sent["ID"]] == {
        "readCount": 0,
        "unreadCount": 1,
        "isPeerRead": False,
        "timestamp": 0,
    }

    await b.request("sendMessageReadReceipt", messageList=[ref(sent, "GROUPg1")])
    counts = await infos(a, [sent, later], "GROUPg1")
    assert (counts[sent["ID"]]["readCount"], counts[sent["ID"]]["unreadCount"]) == (1, 0)
    # bob confirmed only the earlier one: of the later one, carol read it; bob and dave not yet.
    assert (counts[later["ID"]]["readCount"], counts[later["ID"]]["unreadCount"]) == (1, 2)
    page = await a.request("getGroupMessageReadMemberList", message=ref(sent), filter=1)
    assert page["unreadUserIDList"] == []
    page = await a.request("getGroupMessageReadMemberList", message=ref(sent), filter=0)
    assert page["readUserIDList"] == ["bob"]


async def test_an_online_only_message_cannot_ask_for_receipts(open_tab, alice, bob):
    a = await open_tab(alice)
    message = {"to": "bob", "conversationType": "C2C", "type": "TIMTextElem", "payload": {"text": "x"}, "needReadReceipt": True}
    await a.expect_error(10004, "sendMessage", message=message, options={"onlineUserOnly": True})
