"""Conversation management over the socket (docs/PROTOCOL.md §5.49, §6.17): drafts kept on
the server, marks, receive options and conversation groups. Each op only on the user's own
conversations (someone else's or an unknown one answers with the SDK's code, and nothing is
written), the SDK's limits and codes, the events every tab of the user receives, and those
events applied to a tab's old state equal a fresh fetch (Zulip's verify_action). The reads
and writes have pinned query counts."""

import copy

import pytest
from channels.db import database_sync_to_async

from messaging import actions, rules
from messaging.models import Conversation, ConversationGroup
from messaging.queries.conversation_groups import get_conversation_group_list
from messaging.queries.conversation_list import get_conversation_list
from tests.chat_helpers import db_snapshot, fast_passwords, make_group, send_text  # noqa: F401
from tests.ws import events_named

pytestmark = pytest.mark.django_db(transaction=True)

STAR, UNREAD, FOLD, HIDE = 1, 2, 4, 8
NOT_FOUND = 2500


def snapshot():
    """``db_snapshot`` and the conversation-management state."""
    return {
        **db_snapshot(),
        "settings": list(
            Conversation.objects.order_by("pk").values_list("pk", "draft_text", "marks", "remind_type", "group_names")
        ),
        "groups": list(ConversationGroup.objects.order_by("pk").values_list("user_id", "name")),
    }


async def refused(tab, code, op, **args):
    """``op`` fails with ``code`` and writes nothing."""
    before = await database_sync_to_async(snapshot)()
    error = await tab.expect_error(code, op, **args)
    assert await database_sync_to_async(snapshot)() == before
    return error


async def state(tab):
    return {
        "conversations": (await tab.request("getConversationList"))["conversationList"],
        "groups": (await tab.request("getConversationGroupList"))["groupList"],
    }


def apply_events(old, events):
    """What tim.js does with each event, applied to ``old``."""
    new = copy.deepcopy(old)
    for frame in events:
        name, data = frame["event"], frame["data"]
        if name == "CONVERSATION_LIST_UPDATED":
            by_id = {c["conversationID"]: c for c in new["conversations"]}
            for patch in data:
                if patch["conversationID"] in by_id:
                    fields = {k: v for k, v in patch.items() if k not in ("conversationID", "syncCursor", "seenCursor")}
                    by_id[patch["conversationID"]].update(fields)
        elif name == "CONVERSATION_GROUP_LIST_UPDATED":
            new["groups"] = data
    return new


async def verified(*tabs_and_states):
    """Each tab's events applied to its old state equal what it fetches now."""
    for tab, old in tabs_and_states:
        events = await tab.drain(settle=0.3)
        assert apply_events(old, events) == await state(tab)


@pytest.fixture
def chats(alice, bob, carol):
    """alice has a C2C chat with bob and the group g1 (with bob); carol has a chat with bob."""
    send_text(bob, "alice", "hi alice")
    send_text(bob, "carol", "hi carol")
    make_group(alice, group_type="Public", group_id="g1", members=["bob"])
    return alice


def by_id(listed):
    return {c["conversationID"]: c for c in listed}


# --- the conversation object ------------------------------------------------------------------


def test_a_conversation_has_the_sdk_fields_with_their_defaults(chats, alice):
    for conv in get_conversation_list(alice):
        assert conv["draftText"] == ""
        assert conv["markList"] == []
        assert conv["conversationGroupList"] == []
        assert conv["messageRemindType"] == "AcceptAndNotify"


def test_mark_lists_are_the_set_bits_smallest_first():
    assert rules.mark_list(0) == []
    assert rules.mark_list(STAR | FOLD) == [1, 4]
    assert rules.mark_list(2**40 | UNREAD) == [2, 2**40]
    assert all(rules.is_mark_type(m) for m in (1, 2, 4, 8, 2**32, 2**62))
    assert not any(rules.is_mark_type(m) for m in (0, 3, 16, 2**31, 2**32 + 1, True, "1", -1))


# --- drafts -----------------------------------------------------------------------------------


async def test_a_draft_reaches_every_tab_of_the_user_and_only_theirs(chats, open_tab, alice, bob):
    a1, a2, b = await open_tab(alice), await open_tab(alice), await open_tab(bob)
    old1, old2 = await state(a1), await state(a2)
    await b.drain()
    assert await a1.request("setConversationDraft", conversationID="C2Cbob", draftText="see you at") == {
        "conversationID": "C2Cbob"
    }
    await verified((a1, old1), (a2, old2))
    assert by_id((await state(a2))["conversations"])["C2Cbob"]["draftText"] == "see you at"
    assert await b.drain() == [], "a draft is the user's alone"

    # Saving the same draft again tells nobody (the composer saves often); "" clears it.
    await a1.request("setConversationDraft", conversationID="C2Cbob", draftText="see you at")
    assert await a2.drain() == []
    old2 = await state(a2)
    await a1.request("setConversationDraft", conversationID="C2Cbob")
    await a1.drain()
    await verified((a2, old2))
    assert by_id((await state(a2))["conversations"])["C2Cbob"]["draftText"] == ""


async def test_draft_refusals_have_the_sdk_codes_and_write_nothing(chats, open_tab, alice, carol):
    tab = await open_tab(alice)
    await refused(tab, NOT_FOUND, "setConversationDraft", conversationID="C2Ccarol", draftText="x")  # no chat yet
    await refused(tab, 2503, "setConversationDraft", conversationID="nonsense", draftText="x")
    await refused(tab, 20003, "setConversationDraft", conversationID="C2Cnobody", draftText="x")
    await refused(tab, 10004, "setConversationDraft", conversationID="C2Cbob", draftText=7)
    await refused(tab, 10004, "setConversationDraft", conversationID="C2Cbob", draftText="x" * (rules.MAX_DRAFT_CHARS + 1))
    outsider = await open_tab(carol)
    await refused(outsider, 10007, "setConversationDraft", conversationID="GROUPg1", draftText="x")


# --- marks ------------------------------------------------------------------------------------


async def test_marks_reach_every_tab_and_replay_to_a_fresh_fetch(chats, open_tab, alice):
    a1, a2 = await open_tab(alice), await open_tab(alice)
    old1, old2 = await state(a1), await state(a2)
    reply = await a1.request("markConversation", conversationIDList=["C2Cbob", "GROUPg1"], markType=STAR, enableMark=True)
    assert reply == {"successConversationIDList": ["C2Cbob", "GROUPg1"], "failureConversationIDList": []}
    await a1.request("markConversation", conversationIDList=["C2Cbob"], markType=FOLD, enableMark=True)
    await a1.request("markConversation", conversationIDList=["GROUPg1"], markType=STAR, enableMark=False)
    await a1.request("markConversation", conversationIDList=["GROUPg1"], markType=2**40, enableMark=True)
    await verified((a1, old1), (a2, old2))
    listed = by_id((await state(a2))["conversations"])
    assert listed["C2Cbob"]["markList"] == [STAR, FOLD]
    assert listed["GROUPg1"]["markList"] == [2**40]


async def test_only_own_conversations_are_marked(chats, open_tab, alice, carol):
    """carol names alice's conversations: they are not hers (2500 each), nothing is written."""
    tab = await open_tab(carol)
    before = await database_sync_to_async(snapshot)()
    reply = await tab.request(
        "markConversation", conversationIDList=["C2Cbob", "GROUPg1", "C2Calice"], markType=STAR, enableMark=True
    )
    assert reply["successConversationIDList"] == ["C2Cbob"], "carol's own chat with bob"
    assert [(f["conversationID"], f["code"]) for f in reply["failureConversationIDList"]] == [
        ("GROUPg1", NOT_FOUND),
        ("C2Calice", NOT_FOUND),
    ]
    after = await database_sync_to_async(snapshot)()
    marked = {pk: marks for pk, _, marks, _, _ in after["settings"]}
    assert {pk for pk, _, marks, _, _ in before["settings"] if marks != marked[pk]} == {
        await database_sync_to_async(lambda: Conversation.objects.get(user=carol, conversation_id="C2Cbob").pk)()
    }


async def test_mark_refusals_have_the_sdk_codes_and_write_nothing(chats, open_tab, alice):
    tab = await open_tab(alice)
    for bad in (0, 3, 16, 2**31, -1):
        await refused(tab, 10004, "markConversation", conversationIDList=["C2Cbob"], markType=bad, enableMark=True)
    await refused(tab, 10004, "markConversation", conversationIDList=["C2Cbob"], markType=STAR, enableMark="yes")
    await refused(tab, 2503, "markConversation", conversationIDList=[], markType=STAR, enableMark=True)
    await refused(tab, 2503, "markConversation", conversationIDList=["C2Cbob", "nonsense"], markType=STAR, enableMark=True)
    await refused(tab, 2503, "markConversation", conversationIDList=["C2Cbob"] * 101, markType=STAR, enableMark=True)


async def test_reading_clears_the_unread_mark_on_every_tab(chats, open_tab, alice):
    a1, a2 = await open_tab(alice), await open_tab(alice)
    await a1.request("markConversation", conversationIDList=["C2Cbob"], markType=UNREAD, enableMark=True)
    await a1.request("markConversation", conversationIDList=["C2Cbob"], markType=STAR, enableMark=True)
    await a1.request("setMessageRead", conversationID="C2Cbob")  # reads the unread message too
    await a1.drain()
    old = await state(a2)
    # Nothing unread any more: a read still clears the mark (the user opened the chat).
    await a1.request("markConversation", conversationIDList=["C2Cbob"], markType=UNREAD, enableMark=True)
    await a1.request("setMessageRead", conversationID="C2Cbob")
    await verified((a2, old))
    assert by_id((await state(a2))["conversations"])["C2Cbob"]["markList"] == [STAR]
    assert by_id((await state(a2))["conversations"])["C2Cbob"]["unreadCount"] == 0


# --- receive options (mute notifications) ---------------------------------------------------


async def test_remind_types_reach_every_tab_and_replay(chats, open_tab, alice):
    a1, a2 = await open_tab(alice), await open_tab(alice)
    old1, old2 = await state(a1), await state(a2)
    assert await a1.request("setMessageRemindType", groupID="g1", messageRemindType="AcceptNotNotify") == {
        "groupID": "g1",
        "messageRemindType": "AcceptNotNotify",
    }
    reply = await a1.request("setMessageRemindType", userIDList=["bob", "carol", "nobody"], messageRemindType="Discard")
    assert reply["successUserIDList"] == ["bob"]
    assert [(f["userID"], f["code"]) for f in reply["failureUserIDList"]] == [("carol", NOT_FOUND), ("nobody", NOT_FOUND)]
    await verified((a1, old1), (a2, old2))
    listed = by_id((await state(a2))["conversations"])
    assert listed["GROUPg1"]["messageRemindType"] == "AcceptNotNotify"
    assert listed["C2Cbob"]["messageRemindType"] == "Discard"


async def test_a_muted_conversation_still_receives_and_counts(chats, open_tab, alice, bob):
    """The option is the client's to honour (no notification); delivery does not change."""
    a = await open_tab(alice)
    await a.request("setMessageRemindType", userIDList=["bob"], messageRemindType="AcceptNotNotify")
    await a.drain()
    await database_sync_to_async(send_text)(bob, "alice", "still here")
    received = await a.wait_event("MESSAGE_RECEIVED")
    assert received[0]["payload"]["text"] == "still here"
    assert by_id((await state(a))["conversations"])["C2Cbob"]["messageRemindType"] == "AcceptNotNotify"


async def total(tab):
    return (await tab.request("getTotalUnreadMessageCount"))["totalUnreadCount"]


async def test_muted_conversations_stay_out_of_the_total_and_the_events_agree(chats, open_tab, alice, bob):
    """The vendor's total "subtracts do-not-disturb conversations" (TIM.md §4.2): a muted
    conversation (AcceptNotNotify, or Discard) keeps its own unreadCount but leaves
    getTotalUnreadMessageCount; muting and unmuting push the new total to every tab, and
    the last total pushed always equals a fresh getTotalUnreadMessageCount."""
    a1, a2 = await open_tab(alice), await open_tab(alice)
    pushed = {a1: a1.initial_unread, a2: a2.initial_unread}
    assert pushed[a1] == await total(a1) == 1  # bob's "hi alice"

    async def agree(expected, conversation_unread=None):
        for tab in (a1, a2):
            totals = events_named(await tab.drain(settle=0.3), "TOTAL_UNREAD_MESSAGE_COUNT_UPDATED")
            pushed[tab] = totals[-1] if totals else pushed[tab]
            assert pushed[tab] == await total(tab) == expected
        if conversation_unread is not None:
            assert by_id((await state(a2))["conversations"])["C2Cbob"]["unreadCount"] == conversation_unread

    await a1.request("setMessageRemindType", userIDList=["bob"], messageRemindType="AcceptNotNotify")
    await agree(0, conversation_unread=1)
    await database_sync_to_async(send_text)(bob, "alice", "quietly")
    await agree(0, conversation_unread=2)
    await database_sync_to_async(send_text)(bob, "g1", "in the group", conversation_type="GROUP")
    await agree(1)
    await a1.request("setMessageRemindType", groupID="g1", messageRemindType="Discard")
    await agree(0)
    await a1.request("setMessageRemindType", userIDList=["bob"], messageRemindType="AcceptAndNotify")
    await agree(2, conversation_unread=2)
    await a1.request("setMessageRemindType", userIDList=["bob"], messageRemindType="Discard")
    await a1.request("setMessageRemindType", userIDList=["bob"], messageRemindType="AcceptNotNotify")
    await agree(0)
    fresh = await open_tab(alice)  # a reconnect counts the same way
    assert fresh.initial_unread == 0
    await a1.request("setMessageRemindType", groupID="g1", messageRemindType="AcceptAndNotify")
    await agree(1)
    assert events_named(await fresh.drain(settle=0.3), "TOTAL_UNREAD_MESSAGE_COUNT_UPDATED") == [1]


async def test_a_groups_self_info_carries_the_users_remind_type(chats, open_tab, alice, bob):
    """GroupSelfInfo.messageRemindType (getGroupList, getGroupProfile, searchGroupByID's
    list) is the user's own setting for the group's conversation; the user's tabs get
    GROUP_LIST_UPDATED with it, equal to a fresh getGroupList. Bob's stays as it was."""
    a1, a2 = await open_tab(alice), await open_tab(alice)
    b = await open_tab(bob)

    async def remind_types(tab):
        listed = (await tab.request("getGroupList"))["groupList"]
        profile = (await tab.request("getGroupProfile", groupID="g1"))["group"]
        return [g["selfInfo"]["messageRemindType"] for g in listed], profile["selfInfo"]["messageRemindType"]

    assert await remind_types(a1) == (["AcceptAndNotify"], "AcceptAndNotify")
    for option in ("AcceptNotNotify", "Discard", "AcceptAndNotify", "AcceptNotNotify"):
        await a1.request("setMessageRemindType", groupID="g1", messageRemindType=option)
        for tab in (a1, a2):
            pushed = events_named(await tab.drain(settle=0.3), "GROUP_LIST_UPDATED")[-1]
            assert pushed == (await tab.request("getGroupList"))["groupList"]
            assert await remind_types(tab) == ([option], option)
    assert await remind_types(b) == (["AcceptAndNotify"], "AcceptAndNotify")
    assert "GROUP_LIST_UPDATED" not in [e["event"] for e in await b.drain(settle=0.3)]


async def test_remind_type_refusals_have_the_sdk_codes_and_write_nothing(chats, open_tab, alice, carol, dave):
    tab = await open_tab(alice)
    await refused(tab, 10004, "setMessageRemindType", groupID="g1", messageRemindType="Loud")
    await refused(tab, 10004, "setMessageRemindType", messageRemindType="Discard")
    await refused(tab, 10004, "setMessageRemindType", groupID="g1", userIDList=["bob"], messageRemindType="Discard")
    await refused(tab, 10004, "setMessageRemindType", userIDList=[], messageRemindType="Discard")
    await refused(tab, 10005, "setMessageRemindType", userIDList=[f"u{i}" for i in range(31)], messageRemindType="Discard")
    await refused(tab, 10010, "setMessageRemindType", groupID="nogroup", messageRemindType="Discard")
    outsider = await open_tab(carol)
    await refused(outsider, 10007, "setMessageRemindType", groupID="g1", messageRemindType="Discard")


# --- conversation groups -------------------------------------------------------------------


async def test_conversation_groups_reach_every_tab_and_replay(chats, open_tab, alice, bob):
    a1, a2, b = await open_tab(alice), await open_tab(alice), await open_tab(bob)
    old1, old2 = await state(a1), await state(a2)
    await b.drain()
    reply = await a1.request(
        "createConversationGroup", groupName="Suppliers", conversationIDList=["C2Cbob", "GROUPg1", "C2Cnobody"]
    )
    assert reply["successConversationIDList"] == ["C2Cbob", "GROUPg1"]
    assert [(f["conversationID"], f["code"]) for f in reply["failureConversationIDList"]] == [("C2Cnobody", NOT_FOUND)]
    await a1.request("createConversationGroup", groupName="Family", conversationIDList=["C2Cbob"])
    assert await a1.request("renameConversationGroup", oldName="Suppliers", newName="Vendors") == {"groupName": "Vendors"}
    await a1.request("deleteConversationsFromGroup", groupName="Vendors", conversationIDList=["C2Cbob"])
    await a1.request("addConversationsToGroup", groupName="Family", conversationIDList=["GROUPg1", "C2Cbob"])
    await verified((a1, old1), (a2, old2))
    fresh = await state(a2)
    assert fresh["groups"] == ["Vendors", "Family"]
    listed = by_id(fresh["conversations"])
    assert listed["C2Cbob"]["conversationGroupList"] == ["Family"]
    assert listed["GROUPg1"]["conversationGroupList"] == ["Vendors", "Family"]

    old2 = await state(a2)
    assert await a1.request("deleteConversationGroup", groupName="Vendors") == {"groupName": "Vendors"}
    await a1.drain()
    await verified((a2, old2))
    assert (await state(a2))["groups"] == ["Family"]
    assert by_id((await state(a2))["conversations"])["GROUPg1"]["conversationGroupList"] == ["Family"]
    assert await b.drain() == [], "conversation groups are the user's alone"
    assert (await b.request("getConversationGroupList"))["groupList"] == []


async def test_conversation_group_refusals_have_the_sdk_codes_and_write_nothing(chats, open_tab, alice, carol):
    tab = await open_tab(alice)
    await tab.request("createConversationGroup", groupName="Work", conversationIDList=["C2Cbob"])
    await refused(tab, 51011, "createConversationGroup", groupName="", conversationIDList=["C2Cbob"])
    await refused(tab, 51011, "createConversationGroup", groupName="x" * 33, conversationIDList=["C2Cbob"])
    await refused(tab, 51011, "createConversationGroup", groupName="é" * 17, conversationIDList=["C2Cbob"])  # 34 bytes
    await refused(tab, 51011, "createConversationGroup", groupName="Work", conversationIDList=["C2Cbob"])
    await refused(tab, 51011, "createConversationGroup", groupName=7, conversationIDList=["C2Cbob"])
    await refused(tab, 2503, "createConversationGroup", groupName="New", conversationIDList=[])
    await refused(tab, 2503, "createConversationGroup", groupName="New", conversationIDList=["nonsense"])
    await refused(tab, 51009, "deleteConversationGroup", groupName="Nope")
    await refused(tab, 51009, "renameConversationGroup", oldName="Nope", newName="Yes")
    await refused(tab, 51011, "renameConversationGroup", oldName="Work", newName="")
    await refused(tab, 51009, "addConversationsToGroup", groupName="Nope", conversationIDList=["C2Cbob"])
    await refused(tab, 51009, "deleteConversationsFromGroup", groupName="Nope", conversationIDList=["C2Cbob"])
    # Another user's group of the same name is not alice's.
    other = await open_tab(carol)
    await refused(other, 51009, "deleteConversationGroup", groupName="Work")
    await refused(other, 51009, "addConversationsToGroup", groupName="Work", conversationIDList=["C2Cbob"])


async def test_at_most_20_conversation_groups(chats, open_tab, alice):
    tab = await open_tab(alice)
    for i in range(rules.MAX_CONVERSATION_GROUPS):
        await tab.request("createConversationGroup", groupName=f"g{i}", conversationIDList=["C2Cbob"])
    await refused(tab, 51010, "createConversationGroup", groupName="one more", conversationIDList=["C2Cbob"])
    assert len((await tab.request("getConversationGroupList"))["groupList"]) == 20


def test_a_group_holds_at_most_1000_conversations(chats, alice, monkeypatch):
    monkeypatch.setattr(rules, "MAX_CONVERSATIONS_PER_GROUP", 1)
    actions.create_conversation_group(alice, "One", ["C2Cbob"])
    before = snapshot()
    with pytest.raises(Exception) as info:
        actions.add_conversations_to_group(alice, "One", ["GROUPg1"])
    assert info.value.code == 51008
    with pytest.raises(Exception) as info:
        actions.create_conversation_group(alice, "Two", ["C2Cbob", "GROUPg1"])
    assert info.value.code == 51008
    assert snapshot() == before


# --- query counts ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("n", [2, 8])
def test_the_list_reads_the_new_fields_with_no_query_more(alice, bob, django_assert_num_queries, n):
    """getConversationList stays 1 query for C2C chats (2 with groups) however many
    conversations are marked, drafted, muted or grouped; the group list is 1 query."""
    peers = [actions.create_user(f"peer{i}", password="pw") for i in range(n)]
    for peer in peers:
        send_text(peer, "alice", "hi")
    ids = [f"C2C{peer.username}" for peer in peers]
    actions.create_conversation_group(alice, "All", ids)
    actions.create_conversation_group(alice, "Some", ids[:1])
    actions.mark_conversation(alice, ids, STAR, True)
    actions.set_message_remind_type(alice, user_ids=[p.username for p in peers], remind_type="Discard")
    for conversation_id in ids:
        actions.set_conversation_draft(alice, conversation_id, "later")
    with django_assert_num_queries(1):
        listed = get_conversation_list(alice)
    assert all(c["markList"] == [STAR] and c["draftText"] == "later" and "All" in c["conversationGroupList"] for c in listed)
    with django_assert_num_queries(1):
        assert get_conversation_group_list(alice) == ["All", "Some"]


@pytest.mark.django_db
@pytest.mark.parametrize("n", [2, 8])
def test_the_writes_have_fixed_query_counts(alice, django_assert_num_queries, n):
    """Whatever the number of conversations named. S/R: the SAVEPOINT and RELEASE of the
    action's transaction (as tests/test_write_queries.py counts them)."""
    peers = [actions.create_user(f"peer{i}", password="pw") for i in range(n)]
    for peer in peers:
        send_text(peer, "alice", "hi")
    ids = [f"C2C{peer.username}" for peer in peers]
    with django_assert_num_queries(4):  # the row; S; the update; R
        actions.set_conversation_draft(alice, ids[0], "soon")
    with django_assert_num_queries(4):  # S; the rows, locked; one update; R
        actions.mark_conversation(alice, ids, STAR, True)
    with django_assert_num_queries(4):  # S; the rows; one update; R
        actions.set_message_remind_type(alice, user_ids=[p.username for p in peers], remind_type="Discard")
    with django_assert_num_queries(8):  # S; lock; names; rows; insert; the rows' update; the list for the event; R
        actions.create_conversation_group(alice, "All", ids)
    with django_assert_num_queries(6):  # S; lock; group; rows; the rows' update; R
        actions.delete_conversations_from_group(alice, "All", ids[:1])
    with django_assert_num_queries(7):  # S; lock; group; rows; the group's size; the rows' update; R
        actions.add_conversations_to_group(alice, "All", ids[:1])
    with django_assert_num_queries(9):  # S; lock; group; name taken?; members; rename; the rows' update; list; R
        actions.rename_conversation_group(alice, "All", "Everyone")
    with django_assert_num_queries(8):  # S; lock; group; members; delete; the rows' update; list; R
        actions.delete_conversation_group(alice, "Everyone")


async def test_events_name_the_changes_only(chats, open_tab, alice):
    """One patch per conversation changed, with only the changed field."""
    tab = await open_tab(alice)
    await tab.request("markConversation", conversationIDList=["C2Cbob"], markType=STAR, enableMark=True)
    events = await tab.drain()
    assert events_named(events, "CONVERSATION_LIST_UPDATED") == [[{"conversationID": "C2Cbob", "markList": [STAR]}]]
    await tab.request("createConversationGroup", groupName="G", conversationIDList=["C2Cbob"])
    events = await tab.drain()
    assert events_named(events, "CONVERSATION_GROUP_LIST_UPDATED") == [["G"]]
    assert events_named(events, "CONVERSATION_LIST_UPDATED") == [[{"conversationID": "C2Cbob", "conversationGroupList": ["G"]}]]
