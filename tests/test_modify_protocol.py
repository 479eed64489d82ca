"""modifyMessage over the socket (docs/PROTOCOL.md §5.51, §6.18): who may edit, who hears
of it, the conflict code, and the events applied to a tab's old state equal a fresh fetch
and what ``sync`` replays (Zulip's verify_action)."""

import pytest
from channels.db import database_sync_to_async

from messaging import actions
from messaging.actions import message_modify
from messaging.errors import ChatError
from messaging.models import Message, MessageEdit
from tests.chat_helpers import fast_passwords, make_group  # noqa: F401
from tests.test_revoke_protocol import comparable, early_and_late, state
from tests.ws import events_named

pytestmark = pytest.mark.django_db(transaction=True)


def edit(message, text=None, *, version=None, conversation_id=None, **fields):
    edited = {
        "ID": message["ID"],
        "conversationID": conversation_id or message["conversationID"],
        "version": message["version"] if version is None else version,
        "payload": {"text": text} if text is not None else message["payload"],
    }
    return {**edited, **fields}


async def test_a_c2c_edit_reaches_the_peer_and_the_senders_other_tab_not_the_asking_tab(open_tab, alice, bob, carol):
    a1, a2, b, c = await open_tab(alice), await open_tab(alice), await open_tab(bob), await open_tab(carol)
    sent = await a1.send_text("bob", "helo")
    assert (sent["isModified"], sent["version"]) == (False, 0)
    await b.wait_event("MESSAGE_RECEIVED")
    await a2.wait_event("MESSAGE_RECEIVED")
    for tab in (a1, a2, b):
        await tab.drain()

    reply = (await a1.request("modifyMessage", message=edit(sent, "hello")))["message"]

    assert (reply["payload"], reply["isModified"], reply["version"], reply["flow"]) == ({"text": "hello"}, True, 1, "out")
    assert (reply["sequence"], reply["time"], reply["random"]) == (sent["sequence"], sent["time"], sent["random"])
    [received] = await b.wait_event("MESSAGE_MODIFIED")
    assert (received["ID"], received["payload"], received["isModified"], received["flow"], received["conversationID"]) == (
        sent["ID"],
        {"text": "hello"},
        True,
        "in",
        "C2Calice",
    )
    [patch] = await b.wait_event("CONVERSATION_LIST_UPDATED")
    assert patch["lastMessage"]["payload"] == {"text": "hello"} and "unreadCount" not in patch
    [other_tab] = await a2.wait_event("MESSAGE_MODIFIED")
    assert (other_tab["flow"], other_tab["conversationID"]) == ("out", "C2Cbob")
    asking = await a1.drain()
    assert [e["event"] for e in asking] == ["CONVERSATION_LIST_UPDATED"]
    assert asking[0]["data"][0]["lastMessage"]["payload"] == {"text": "hello"}
    assert await c.drain() == []

    history = (await b.request("getMessageList", conversationID="C2Calice"))["messageList"]
    assert history[-1] == received
    [conversation] = (await b.request("getConversationList"))["conversationList"]
    assert conversation["lastMessage"]["messageForShow"] == "hello"


async def test_a_custom_message_edit_changes_its_data_and_cloud_custom_data(open_tab, alice, bob):
    a = await open_tab(alice)
    custom = {"data": "v1", "description": "d", "extension": ""}
    message = {"to": "bob", "conversationType": "C2C", "type": "TIMCustomElem", "payload": custom, "cloudCustomData": "x"}
    sent = (await a.request("sendMessage", message=message))["message"]

    new = {"data": "v2", "description": "d", "extension": "e"}
    reply = (await a.request("modifyMessage", message=edit(sent, payload=new, cloudCustomData="y")))["message"]

    assert (reply["payload"], reply["cloudCustomData"], reply["version"]) == (new, "y", 1)


async def test_refusals_over_the_socket(settings, open_tab, alice, bob, carol):
    await database_sync_to_async(make_group)(alice, group_type="Public", members=["bob"])
    a, b, c = await open_tab(alice), await open_tab(bob), await open_tab(carol)
    sent = await a.send_text("bob", "mine")
    in_group = await a.send_text("g1", "group", conversation_type="GROUP")

    await b.expect_error(10007, "modifyMessage", message=edit(sent, "his", conversation_id="C2Calice"))
    await b.expect_error(10007, "modifyMessage", message=edit(in_group, "his"))
    await c.expect_error(10007, "modifyMessage", message=edit(in_group, "not a member"))
    await c.expect_error(10030, "modifyMessage", message=edit(sent, "stranger", conversation_id="C2Calice"))
    await a.expect_error(10030, "modifyMessage", message={**edit(sent, "x"), "ID": "nope"})
    await a.expect_error(2503, "modifyMessage", message={**edit(sent, "x"), "conversationID": "nope"})
    await a.expect_error(10004, "modifyMessage", message=edit(sent, "   "))
    await a.expect_error(10004, "modifyMessage", message={k: v for k, v in edit(sent, "x").items() if k != "version"})
    await a.expect_error(10004, "modifyMessage", message=edit(sent, "x", type="TIMCustomElem"))
    await a.expect_error(80002, "modifyMessage", message=edit(sent, "x" * 13000))

    face = {"to": "bob", "conversationType": "C2C", "type": "TIMFaceElem", "payload": {"index": 1, "data": "smile"}}
    sent_face = (await a.request("sendMessage", message=face))["message"]
    await a.expect_error(2481, "modifyMessage", message=edit(sent_face, payload={"index": 2, "data": "x"}))

    recalled = await a.send_text("bob", "gone")
    await a.request("revokeMessage", message={"ID": recalled["ID"], "conversationID": "C2Cbob"})
    await a.expect_error(2481, "modifyMessage", message=edit(recalled, "back"))

    settings.CHAT = {"EDIT_WINDOW": 0}
    await a.expect_error(2481, "modifyMessage", message=edit(sent, "too late"))

    def unchanged():
        return list(Message.objects.filter(msg_id=sent["ID"]).values_list("payload", "version")), MessageEdit.objects.count()

    assert await database_sync_to_async(unchanged)() == ([({"text": "mine"}, 0)], 0)


async def test_banned_words_apply_to_the_new_text(open_tab, alice, bob, boss):
    await database_sync_to_async(actions.update_chat_settings)(boss, {"banned_words": "darn"})
    a = await open_tab(alice)
    sent = await a.send_text("bob", "fine")
    await a.expect_error(80001, "modifyMessage", message=edit(sent, "darn it"))
    await database_sync_to_async(actions.update_chat_settings)(boss, {"banned_words_action": "mask"})
    reply = (await a.request("modifyMessage", message=edit(sent, "darn it")))["message"]
    assert reply["payload"] == {"text": "**** it"}


async def test_concurrent_edits_the_loser_gets_2480_with_the_current_version(open_tab, alice, bob):
    a1, a2 = await open_tab(alice), await open_tab(alice)
    sent = await a1.send_text("bob", "draft")

    won = (await a1.request("modifyMessage", message=edit(sent, "first")))["message"]
    conflict = await a2.expect_error(2480, "modifyMessage", message=edit(sent, "second"))

    assert conflict.data["message"] == {**won, "flow": "out"}
    assert conflict.data["message"]["payload"] == {"text": "first"} and conflict.data["message"]["version"] == 1
    again = (await a2.request("modifyMessage", message=edit(conflict.data["message"], "second")))["message"]
    assert (again["payload"], again["version"]) == ({"text": "second"}, 2)

    def kept():
        return list(MessageEdit.objects.order_by("version").values_list("version", "payload"))

    assert await database_sync_to_async(kept)() == [(0, {"text": "draft"}), (1, {"text": "first"})]


def test_the_compare_and_set_refuses_a_version_changed_under_it(alice, bob, monkeypatch):
    """Two edits that both read version 0: the one whose UPDATE comes second writes nothing."""
    sent = actions.send_message(alice, conversation_type="C2C", to="bob", msg_type="TIMTextElem", payload={"text": "a"})
    real = message_modify.BUILDERS[sent.message.type]

    def racing(user, payload):
        # The other edit commits between this one's read and its compare-and-set.
        monkeypatch.setitem(message_modify.BUILDERS, sent.message.type, real)
        actions.modify_message(alice, "C2Cbob", sent.message.msg_id, version=0, payload={"text": "other"})
        return real(user, payload)

    monkeypatch.setitem(message_modify.BUILDERS, sent.message.type, racing)
    with pytest.raises(ChatError) as raised:
        actions.modify_message(alice, "C2Cbob", sent.message.msg_id, version=0, payload={"text": "mine"})
    assert raised.value.code == 2480 and raised.value.data["message"]["payload"] == {"text": "other"}
    assert Message.objects.get(pk=sent.message.pk).version == 1


# --- the events applied to the old state equal a fresh fetch, and sync agrees --------------------


def apply_events(old, events):
    """What tim.js does: a modified message replaces the held one; patches merge."""
    conversations = {c["conversationID"]: dict(c) for c in old["conversations"]}
    history = [dict(m) for m in old["history"]]
    for frame in events:
        name, data = frame["event"], frame["data"]
        if name == "MESSAGE_MODIFIED":
            for message in data:
                history = [message if m["ID"] == message["ID"] else m for m in history]
        elif name == "CONVERSATION_LIST_UPDATED":
            for patch in data:
                conversations.setdefault(patch["conversationID"], {}).update(patch)
    return {**old, "conversations": list(conversations.values()), "history": history}


async def test_group_edit_events_applied_to_the_old_state_equal_a_refetch_and_sync(open_tab, alice, bob, carol):
    await database_sync_to_async(make_group)(alice, group_type="Public", members=["bob", "carol"])
    a, b, c = await open_tab(alice), await open_tab(bob), await open_tab(carol)
    early = await b.send_text("g1", "early", conversation_type="GROUP")
    last = await b.send_text("g1", "@carol last", conversation_type="GROUP", atUserList=["carol"])
    await c.wait_event("MESSAGE_RECEIVED")
    await c.wait_event("MESSAGE_RECEIVED")
    for tab in (a, b, c):
        await tab.drain()
    old = {tab: await state(tab, "GROUPg1") for tab in (a, b, c)}
    cursor = old[c]["conversations"][0]["syncCursor"]

    replies = [(await b.request("modifyMessage", message=edit(last, "@carol last!")))["message"]]
    replies.append((await b.request("modifyMessage", message=edit(early, "earlier")))["message"])

    for tab in (a, b, c):
        own = [{"event": "MESSAGE_MODIFIED", "data": [m]} for m in replies] if tab is b else []
        events = own + await tab.drain(settle=0.3)
        assert len(events_named(events, "MESSAGE_MODIFIED")) == 2 or tab is b
        fresh = await state(tab, "GROUPg1")
        assert comparable(apply_events(old[tab], events)) == comparable(fresh)
        patches = [p for data in events_named(events, "CONVERSATION_LIST_UPDATED") for p in data]
        assert fresh["conversations"][0]["syncCursor"] == patches[-1]["syncCursor"]
    fresh = await state(c, "GROUPg1")
    assert [m["payload"].get("text") for m in fresh["history"][-2:]] == ["earlier", "@carol last!"]
    assert fresh["history"][-1]["payload"]["atUserList"] == ["carol"]
    assert fresh["conversations"][0]["groupAtInfoList"][0]["messageID"] == last["ID"]

    synced = await c.request("sync", cursors={"GROUPg1": cursor})
    [entry] = [e for e in synced["conversations"] if e["conversationID"] == "GROUPg1"]
    assert entry["messageList"] == []
    assert entry["changedList"] == [m for m in fresh["history"] if m["ID"] in (early["ID"], last["ID"])][::-1]
    assert entry["syncCursor"] == fresh["conversations"][0]["syncCursor"]


async def test_c2c_edit_of_an_earlier_message_leaves_the_last_message_alone(open_tab, alice, bob):
    a, b, early = await early_and_late(open_tab, alice, bob)
    old_b = await state(b, "C2Calice")

    await a.request("modifyMessage", message=edit(early, "earlier"))

    events = await b.drain(settle=0.3)
    [patch] = events_named(events, "CONVERSATION_LIST_UPDATED")[0]
    assert "lastMessage" not in patch and "unreadCount" not in patch
    assert comparable(apply_events(old_b, events)) == comparable(await state(b, "C2Calice"))
