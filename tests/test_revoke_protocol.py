"""revokeMessage over the socket (docs/PROTOCOL.md §5.20, §6.9): who gets which frame, and
the events applied to a tab's old state equal a fresh fetch (Zulip's verify_action)."""

import pytest
from channels.db import database_sync_to_async

from messaging import actions, rules
from tests.chat_helpers import fast_passwords, make_group, send_group_text, set_role  # noqa: F401
from tests.ws import events_named

pytestmark = pytest.mark.django_db(transaction=True)


def ref(message, conversation_id=None):
    return {"ID": message["ID"], "conversationID": conversation_id or message["conversationID"]}


async def test_a_c2c_recall_reaches_the_peer_and_the_senders_other_tab_not_the_asking_tab(open_tab, alice, bob, carol):
    a1, a2, b, c = await open_tab(alice), await open_tab(alice), await open_tab(bob), await open_tab(carol)
    sent = await a1.send_text("bob", "oops")
    await b.wait_event("MESSAGE_RECEIVED")
    await a2.wait_event("MESSAGE_RECEIVED")
    for tab in (a1, a2, b):
        await tab.drain()

    reply = await a1.request("revokeMessage", message=ref(sent))

    assert reply["message"]["isRevoked"] and reply["message"]["revoker"] == "alice"
    assert reply["message"]["payload"] == {} and reply["message"]["flow"] == "out"
    [received] = await b.wait_event("MESSAGE_REVOKED")
    assert (received["ID"], received["isRevoked"], received["flow"], received["conversationID"]) == (
        sent["ID"],
        True,
        "in",
        "C2Calice",
    )
    assert received["messageForShow"] == "Alice recalled a message" and "oops" not in str(received)
    [patch] = await b.wait_event("CONVERSATION_LIST_UPDATED")
    assert patch["unreadCount"] == 0 and patch["lastMessage"]["isRevoked"]
    assert await b.wait_event("TOTAL_UNREAD_MESSAGE_COUNT_UPDATED") == 0
    [other_tab] = await a2.wait_event("MESSAGE_REVOKED")
    assert (other_tab["flow"], other_tab["conversationID"]) == ("out", "C2Cbob")
    assert [e["event"] for e in await a2.drain()] == ["CONVERSATION_LIST_UPDATED"]
    asking = await a1.drain()
    assert [e["event"] for e in asking] == ["CONVERSATION_LIST_UPDATED"]
    assert asking[0]["data"][0]["lastMessage"]["isRevoked"]
    assert await c.drain() == []

    again = await a1.request("revokeMessage", message=ref(sent))
    assert again == reply
    assert await b.drain() == [] and await a2.drain() == []


async def test_refusals_over_the_socket(open_tab, alice, bob):
    a, b = await open_tab(alice), await open_tab(bob)
    sent = await a.send_text("bob", "mine")
    await b.expect_error(10007, "revokeMessage", message=ref(sent, "C2Calice"))
    await b.expect_error(10030, "revokeMessage", message={"ID": "nope", "conversationID": "C2Calice"})
    await a.expect_error(2503, "revokeMessage", message={"ID": sent["ID"]})
    await a.expect_error(10004, "revokeMessage", message=ref(sent), reason="x")


async def test_a_group_recall_by_an_admin_corrects_every_members_unread_and_at_flags(open_tab, alice, bob, carol, dave):
    def arrange():
        make_group(alice, group_type="Public", members=["bob", "carol", "dave"])
        set_role("g1", bob, "Admin")

    await database_sync_to_async(arrange)()
    b, c, d = await open_tab(bob), await open_tab(carol), await open_tab(dave)
    spam = await d.send_text("g1", "@carol spam", conversation_type="GROUP", atUserList=["carol", rules.AT_ALL])
    await c.wait_event("MESSAGE_RECEIVED")
    for tab in (b, c, d):
        await tab.drain()
    old = (await c.request("getConversationList"))["conversationList"]
    assert old[0]["unreadCount"] == 1 and old[0]["groupAtInfoList"][0]["atType"] == 3

    await b.request("revokeMessage", message=ref(spam))

    [revoked] = await c.wait_event("MESSAGE_REVOKED")
    assert revoked["revoker"] == "bob" and revoked["atUserList"] == []
    [patch] = await c.wait_event("CONVERSATION_LIST_UPDATED")
    assert patch["unreadCount"] == 0
    assert patch["groupAtInfoRemoved"] == {"messageID": spam["ID"], "groupID": "g1"}
    assert await c.wait_event("TOTAL_UNREAD_MESSAGE_COUNT_UPDATED") == 0
    [own] = await d.wait_event("MESSAGE_REVOKED")
    assert own["flow"] == "out" and own["messageForShow"] == "Bob recalled a message"
    fresh = (await c.request("getConversationList"))["conversationList"]
    assert fresh[0]["unreadCount"] == 0 and fresh[0]["groupAtInfoList"] == []


# --- the events applied to the old state equal a fresh fetch -------------------------------------


async def early_and_late(open_tab, alice, bob):
    """alice's and bob's tabs after alice sent bob "early" then "late" (both delivered, both
    tabs drained): (a, b, the "early" message)."""
    a, b = await open_tab(alice), await open_tab(bob)
    early = await a.send_text("bob", "early")
    await a.send_text("bob", "late")
    await b.wait_event("MESSAGE_RECEIVED")
    await b.wait_event("MESSAGE_RECEIVED")
    await a.drain()
    await b.drain()
    return a, b, early


async def state(tab, conversation_id):
    conversations = (await tab.request("getConversationList"))["conversationList"]
    history = (await tab.request("getMessageList", conversationID=conversation_id))["messageList"]
    total = (await tab.request("getTotalUnreadMessageCount"))["totalUnreadCount"]
    return {"conversations": conversations, "history": history, "total": total}


def apply_events(old, events):
    """What the SDK does with each event (tim.js): recalled messages replace the held ones,
    patches merge into the list (``groupAtInfoRemoved`` drops that message's flags)."""
    conversations = {c["conversationID"]: dict(c) for c in old["conversations"]}
    history = [dict(m) for m in old["history"]]
    total = old["total"]
    for frame in events:
        name, data = frame["event"], frame["data"]
        if name in ("MESSAGE_RECEIVED", "MESSAGE_REVOKED"):
            for message in data:
                held = [i for i, m in enumerate(history) if m["ID"] == message["ID"]]
                if held:
                    history[held[0]] = message
                elif name == "MESSAGE_RECEIVED":
                    history.append(message)
        elif name == "CONVERSATION_LIST_UPDATED":
            for patch in data:
                if patch["conversationID"] not in conversations and "lastMessage" not in patch:
                    continue  # as tim.js: only a new lastMessage brings a conversation (back) into the list
                entry = conversations.setdefault(patch["conversationID"], {})
                for key, value in patch.items():
                    if key == "groupAtInfoRemoved":
                        entry["groupAtInfoList"] = [
                            i for i in entry.get("groupAtInfoList", []) if i["messageID"] != value["messageID"]
                        ]
                    elif key == "groupAtInfoAdded":
                        entry["groupAtInfoList"] = entry.get("groupAtInfoList", []) + [value]
                    else:
                        entry[key] = value
        elif name == "TOTAL_UNREAD_MESSAGE_COUNT_UPDATED":
            total = data
    return {
        "conversations": sorted(conversations.values(), key=lambda c: c["conversationID"]),
        "history": history,
        "total": total,
    }


def comparable(state):
    keys = ("conversationID", "unreadCount", "lastMessage", "groupAtInfoList")
    return {
        "conversations": sorted(({k: c.get(k) for k in keys} for c in state["conversations"]), key=lambda c: c["conversationID"]),
        "history": state["history"],
        "total": state["total"],
    }


async def verify(tab, old, conversation_id, replies=()):
    """``replies``: the recalled messages this tab got in its own revokeMessage replies, which
    the SDK applies to the messages it holds as it does a MESSAGE_REVOKED."""
    events = [{"event": "MESSAGE_REVOKED", "data": [m]} for m in replies] + await tab.drain(settle=0.3)
    assert comparable(apply_events(old, events)) == comparable(await state(tab, conversation_id))
    return events


async def test_group_recall_events_applied_to_the_old_state_equal_a_refetch(open_tab, alice, bob, carol):
    await database_sync_to_async(make_group)(alice, group_type="Public", members=["bob", "carol"])
    a, b, c = await open_tab(alice), await open_tab(bob), await open_tab(carol)
    first = await b.send_text("g1", "@carol first", conversation_type="GROUP", atUserList=["carol"])
    last = await b.send_text("g1", "@all last", conversation_type="GROUP", atUserList=[rules.AT_ALL])
    await c.wait_event("MESSAGE_RECEIVED")
    await c.wait_event("MESSAGE_RECEIVED")
    await database_sync_to_async(actions.mark_read)(alice, "GROUPg1")
    for tab in (a, b, c):
        await tab.drain()
    old = {tab: await state(tab, "GROUPg1") for tab in (a, b, c)}

    replies = {b: [(await b.request("revokeMessage", message=ref(last)))["message"]]}
    replies[a] = [(await a.request("revokeMessage", message=ref(first)))["message"]]

    for tab in (a, b, c):
        events = await verify(tab, old[tab], "GROUPg1", replies.get(tab, ()))
        assert len(events) > len(replies.get(tab, ())), "every viewer heard of the recalls"
    fresh = await state(c, "GROUPg1")
    assert fresh["total"] == 0 and fresh["conversations"][0]["groupAtInfoList"] == []
    assert [m["isRevoked"] for m in fresh["history"][-2:]] == [True, True]


async def test_c2c_recall_of_an_earlier_message_applied_to_the_old_state_equals_a_refetch(open_tab, alice, bob):
    a, b, early = await early_and_late(open_tab, alice, bob)
    old_a, old_b = await state(a, "C2Cbob"), await state(b, "C2Calice")

    reply = await a.request("revokeMessage", message=ref(early))

    events = await verify(b, old_b, "C2Calice")
    [patch] = events_named(events, "CONVERSATION_LIST_UPDATED")[0]
    assert "lastMessage" not in patch, "the last message did not change"
    assert patch["unreadCount"] == 1
    await verify(a, old_a, "C2Cbob", [reply["message"]])


async def test_recalling_a_message_the_peer_has_read_keeps_it_read_in_events_and_reply(open_tab, alice, bob):
    """isPeerRead is viewer-dependent: the recall's reply and the sender's other tab must say
    what a refetch says (the peer's cursor has passed the message), for the message and
    for the conversation's lastMessage."""
    a1, a2, b = await open_tab(alice), await open_tab(alice), await open_tab(bob)
    sent = await a1.send_text("bob", "read, then recalled")
    await b.wait_event("MESSAGE_RECEIVED")
    await b.request("setMessageRead", conversationID="C2Calice")
    for tab in (a1, a2, b):
        await tab.drain()
    old = await state(a2, "C2Cbob")
    assert old["history"][-1]["isPeerRead"] is True

    reply = (await a1.request("revokeMessage", message=ref(sent)))["message"]

    assert reply["isPeerRead"] is True
    events = await verify(a2, old, "C2Cbob")
    [revoked] = events_named(events, "MESSAGE_REVOKED")[0]
    assert revoked["isPeerRead"] is True
    await verify(a1, await state(a1, "C2Cbob"), "C2Cbob")
