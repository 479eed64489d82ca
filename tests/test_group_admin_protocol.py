"""updateGroupProfile, setGroupMemberRole and setGroupMemberMuteTime over the socket
(docs/PROTOCOL.md §5.25–5.27): who may do what with the SDK's codes, refusals store
nothing, the events every member's tab receives, and the events applied to a tab's old
state equal a fresh fetch (Zulip's verify_action)."""

import pytest
from channels.db import database_sync_to_async

from messaging import actions, rules
from tests.chat_helpers import db_snapshot, fast_passwords, make_group, set_role  # noqa: F401
from tests.conftest import make_user
from tests.test_group_admin_events import apply_events, comparable, state
from tests.ws import events_named

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def superuser(db):
    return actions.create_user("root", password="pw-root", is_superuser=True)


def arrange(owner, group_type="Public", members=("bob", "carol"), admins=()):
    def run():
        make_group(owner, group_type=group_type, members=list(members))
        for admin in admins:
            set_role("g1", admin, "Admin")

    return database_sync_to_async(run)()


async def refused(tab, code, op, **args):
    """``op`` fails with ``code`` and writes nothing."""
    before = await database_sync_to_async(db_snapshot)()
    await tab.expect_error(code, op, **args)
    assert await database_sync_to_async(db_snapshot)() == before


def tips(events):
    return [m["payload"] for batch in events_named(events, "MESSAGE_RECEIVED") for m in batch if m["type"] == rules.GROUP_TIP]


# --- updateGroupProfile ---------------------------------------------------------------------


async def test_owner_updates_the_profile_and_every_members_tab_gets_the_tip_and_the_new_group(open_tab, alice, bob, carol, dave):
    await arrange(alice)
    a1, a2, b, d = await open_tab(alice), await open_tab(alice), await open_tab(bob), await open_tab(dave)

    reply = await a1.request(
        "updateGroupProfile", groupID="g1", name=" Launch ", avatar="/media/g.png", joinOption="DisableApply", muteAllMembers=True
    )

    group = reply["group"]
    assert (group["name"], group["avatar"], group["joinOption"], group["muteAllMembers"]) == (
        "Launch",
        "/media/g.png",
        "DisableApply",
        True,
    )
    assert group["selfInfo"]["role"] == "Owner"
    for tab in (a1, a2, b):
        events = await tab.drain(settle=0.3)
        [tip] = tips(events)
        assert tip["operationType"] == rules.TIP_GROUP_PROFILE_UPDATED
        assert tip["newGroupProfile"] == {
            "name": "Launch",
            "avatar": "/media/g.png",
            "joinOption": "DisableApply",
            "muteAllMembers": True,
        }
        [groups] = events_named(events, "GROUP_LIST_UPDATED")
        assert [(g["name"], g["muteAllMembers"]) for g in groups] == [("Launch", True)]
    assert await d.drain() == []
    await b.expect_error(
        10017, "sendMessage", message={"to": "g1", "conversationType": "GROUP", "type": "TIMTextElem", "payload": {"text": "hi"}}
    )


async def test_who_may_update_a_public_groups_profile(open_tab, alice, bob, carol, dave):
    await arrange(alice, admins=[bob])
    b, c, d = await open_tab(bob), await open_tab(carol), await open_tab(dave)

    updated = await b.request("updateGroupProfile", groupID="g1", notification="by the admin")
    assert updated["group"]["notification"] == "by the admin"
    assert (await b.request("updateGroupProfile", groupID="g1", muteAllMembers=True))["group"]["muteAllMembers"] is True
    await refused(c, 10007, "updateGroupProfile", groupID="g1", name="Mine")
    await refused(c, 10007, "updateGroupProfile", groupID="g1", muteAllMembers=False)
    await refused(d, 10007, "updateGroupProfile", groupID="g1", name="Mine")
    await refused(b, 10010, "updateGroupProfile", groupID="nope", name="Mine")


async def test_a_work_group_member_edits_the_profile_but_not_mute_all_nor_the_join_option(open_tab, alice, bob):
    await arrange(alice, group_type="Private", members=["bob"])
    a, b = await open_tab(alice), await open_tab(bob)

    assert (await b.request("updateGroupProfile", groupID="g1", introduction="ours"))["group"]["introduction"] == "ours"
    await refused(b, 10007, "updateGroupProfile", groupID="g1", muteAllMembers=True)
    await refused(a, 10004, "updateGroupProfile", groupID="g1", joinOption="FreeAccess")
    assert (await a.request("updateGroupProfile", groupID="g1", muteAllMembers=True))["group"]["muteAllMembers"] is True


@pytest.mark.parametrize(
    "args, code",
    [
        ({}, 10004),
        ({"name": "   "}, 10004),
        ({"name": "x" * 31}, 10004),
        ({"notification": "x" * 301}, 10004),
        ({"joinOption": "Anyone"}, 10004),
        ({"muteAllMembers": "yes"}, 10004),
        ({"groupCustomField": []}, 10004),
        ({"groupCustomField": [{"key": "bad key", "value": "v"}]}, 10004),
        ({"groupCustomField": [{"key": "k" * 17, "value": "v"}]}, 10004),
        ({"groupCustomField": [{"key": "k", "value": "v" * 513}]}, 10004),
        ({"groupCustomField": [{"key": "k", "value": "v", "extra": 1}]}, 10004),
        ({"groupCustomField": [{"key": "k", "value": "a"}, {"key": "k", "value": "b"}]}, 10004),
        ({"groupID": ""}, 2602),
    ],
)
async def test_bad_profile_arguments_are_refused_and_store_nothing(open_tab, alice, bob, carol, args, code):
    await arrange(alice)
    a = await open_tab(alice)
    await refused(a, code, "updateGroupProfile", **{"groupID": "g1", **args})


async def test_a_profile_update_that_changes_nothing_sends_nothing(open_tab, alice, bob, carol):
    await arrange(alice)
    a, b = await open_tab(alice), await open_tab(bob)
    before = await database_sync_to_async(db_snapshot)()

    reply = await a.request("updateGroupProfile", groupID="g1", name="Team", muteAllMembers=False)

    assert reply["group"]["name"] == "Team"
    assert await database_sync_to_async(db_snapshot)() == before
    assert await b.drain() == [] and await a.drain() == []


# --- setGroupMemberRole ---------------------------------------------------------------------


async def test_owner_appoints_an_admin_the_member_and_the_others_see_it(open_tab, alice, bob, carol):
    await arrange(alice)
    a, b, c = await open_tab(alice), await open_tab(bob), await open_tab(carol)

    reply = await a.request("setGroupMemberRole", groupID="g1", userID="bob", role="Admin")

    assert (reply["member"]["userID"], reply["member"]["role"]) == ("bob", "Admin")
    assert reply["group"]["groupID"] == "g1" and reply["group"]["selfInfo"]["role"] == "Owner"
    b_events, c_events = await b.drain(settle=0.3), await c.drain()
    assert [t["operationType"] for t in tips(b_events)] == [rules.TIP_MEMBER_SET_ADMIN]
    assert [t["userIDList"] for t in tips(c_events)] == [["bob"]]
    assert [g["selfInfo"]["role"] for g in events_named(b_events, "GROUP_LIST_UPDATED")[-1]] == ["Admin"]
    assert events_named(c_events, "GROUP_LIST_UPDATED") == []

    again = await a.request("setGroupMemberRole", groupID="g1", userID="bob", role="Admin")
    assert again["member"]["role"] == "Admin"
    assert await c.drain() == []


async def test_who_may_set_roles(open_tab, alice, bob, carol, dave):
    await arrange(alice, admins=[bob])
    a, b, c, d = await open_tab(alice), await open_tab(bob), await open_tab(carol), await open_tab(dave)

    await refused(b, 10007, "setGroupMemberRole", groupID="g1", userID="carol", role="Admin")
    await refused(c, 10007, "setGroupMemberRole", groupID="g1", userID="carol", role="Admin")
    await refused(d, 10007, "setGroupMemberRole", groupID="g1", userID="carol", role="Admin")
    await refused(a, 10007, "setGroupMemberRole", groupID="g1", userID="alice", role="Member")
    await refused(a, 2623, "setGroupMemberRole", groupID="g1", userID="dave", role="Admin")
    await refused(a, 10004, "setGroupMemberRole", groupID="g1", userID="carol", role="Owner")
    await refused(a, 10010, "setGroupMemberRole", groupID="nope", userID="carol", role="Admin")
    assert (await a.request("setGroupMemberRole", groupID="g1", userID="bob", role="Member"))["member"]["role"] == "Member"


async def test_a_work_group_has_no_admins(open_tab, alice, bob):
    await arrange(alice, group_type="Private", members=["bob"])
    a = await open_tab(alice)
    await refused(a, 10007, "setGroupMemberRole", groupID="g1", userID="bob", role="Admin")


# --- setGroupMemberMuteTime -----------------------------------------------------------------


async def test_a_muted_member_cannot_send_until_unmuted(open_tab, alice, bob, carol):
    await arrange(alice)
    a, b, c = await open_tab(alice), await open_tab(bob), await open_tab(carol)
    message = {"to": "g1", "conversationType": "GROUP", "type": "TIMTextElem", "payload": {"text": "hi"}}

    reply = await a.request("setGroupMemberMuteTime", groupID="g1", userID="carol", muteTime=600)

    member = reply["member"]
    assert member["userID"] == "carol" and member["muteUntil"] > 0
    for tab in (a, b, c):
        [tip] = tips(await tab.drain(settle=0.3))
        assert (tip["operationType"], tip["memberList"][0]["muteTime"]) == (rules.TIP_MEMBER_PROFILE_UPDATED, 600)
    await refused(c, 10017, "sendMessage", message=message)

    reply = await a.request("setGroupMemberMuteTime", groupID="g1", userID="carol", muteTime=0)

    assert reply["member"]["muteUntil"] == 0
    assert [t["memberList"][0]["muteTime"] for t in tips(await b.drain(settle=0.3))] == [0]
    await c.request("sendMessage", message=message)


async def test_who_may_mute_whom(open_tab, alice, bob, carol, dave):
    await arrange(alice, members=["bob", "carol", "dave"], admins=[bob, carol])
    a, b, d = await open_tab(alice), await open_tab(bob), await open_tab(dave)

    assert (await b.request("setGroupMemberMuteTime", groupID="g1", userID="dave", muteTime=60))["member"]["muteUntil"] > 0
    await refused(b, 10007, "setGroupMemberMuteTime", groupID="g1", userID="carol", muteTime=60)
    await refused(b, 10007, "setGroupMemberMuteTime", groupID="g1", userID="alice", muteTime=60)
    await refused(d, 10007, "setGroupMemberMuteTime", groupID="g1", userID="bob", muteTime=60)
    assert (await a.request("setGroupMemberMuteTime", groupID="g1", userID="carol", muteTime=60))["member"]["muteUntil"] > 0
    await refused(a, 2623, "setGroupMemberMuteTime", groupID="g1", userID="nobody", muteTime=60)
    await refused(a, 10004, "setGroupMemberMuteTime", groupID="g1", userID="dave", muteTime=-1)
    await refused(a, 10004, "setGroupMemberMuteTime", groupID="g1", userID="dave", muteTime=2**32)
    await refused(a, 2602, "setGroupMemberMuteTime", groupID="", userID="dave", muteTime=1)


async def test_a_non_member_and_a_work_group_cannot_mute(open_tab, alice, bob, dave):
    await arrange(alice, group_type="Private", members=["bob"])
    a, d = await open_tab(alice), await open_tab(dave)
    await refused(a, 10007, "setGroupMemberMuteTime", groupID="g1", userID="bob", muteTime=60)
    await refused(d, 10007, "setGroupMemberMuteTime", groupID="g1", userID="bob", muteTime=60)


async def viewing(open_tab, alice, bob, carol, viewer):
    """The group, alice's and bob's tabs, the viewer's tab and its state before the ops."""
    await arrange(alice)
    a, b = await open_tab(alice), await open_tab(bob)
    tab = b if viewer == "bob" else await open_tab(carol)
    return a, b, tab, await state(tab)


# --- setGroupMemberNameCard ----------------------------------------------------------------


async def test_a_member_sets_their_own_name_card_and_every_member_gets_tip_7(open_tab, alice, bob, carol):
    await arrange(alice)
    a, b, c = await open_tab(alice), await open_tab(bob), await open_tab(carol)

    reply = await b.request("setGroupMemberNameCard", groupID="g1", nameCard="Bobby")

    assert (reply["member"]["userID"], reply["member"]["nameCard"]) == ("bob", "Bobby")
    for tab in (a, b, c):
        [tip] = tips(await tab.drain(settle=0.3))
        assert (tip["operationType"], tip["memberList"]) == (
            rules.TIP_MEMBER_PROFILE_UPDATED,
            [{"userID": "bob", "nick": "Bob", "avatar": "", "nameCard": "Bobby"}],
        )
    members = {m["userID"]: m for m in (await c.request("getGroupMemberList", groupID="g1"))["memberList"]}
    assert members["bob"]["nameCard"] == "Bobby"
    assert (await b.request("setGroupMemberNameCard", groupID="g1", userID="bob", nameCard="Bobby"))["member"][
        "nameCard"
    ] == "Bobby"
    assert tips(await c.drain(settle=0.3)) == []  # unchanged: no tip


async def test_a_message_carries_its_senders_current_name_card_live_in_history_and_in_sync(open_tab, alice, bob, carol):
    await arrange(alice)
    b, c = await open_tab(bob), await open_tab(carol)
    cursors = {x["conversationID"]: x["syncCursor"] for x in (await c.request("getConversationList"))["conversationList"]}
    await b.request("setGroupMemberNameCard", groupID="g1", nameCard="Bobby")
    message = {"to": "g1", "conversationType": "GROUP", "type": "TIMTextElem", "payload": {"text": "hi"}}

    sent = (await b.request("sendMessage", message=message))["message"]

    assert sent["nameCard"] == "Bobby"
    received = [m for batch in events_named(await c.drain(settle=0.3), "MESSAGE_RECEIVED") for m in batch]
    assert [m["nameCard"] for m in received if m["type"] == "TIMTextElem"] == ["Bobby"]
    await b.request("setGroupMemberNameCard", groupID="g1", nameCard="Bob B")
    history = (await c.request("getMessageList", conversationID="GROUPg1"))["messageList"]
    assert [m["nameCard"] for m in history if m["type"] == "TIMTextElem"] == ["Bob B"]  # the current card
    [synced] = (await c.request("sync", cursors=cursors))["conversations"]
    assert [m["nameCard"] for m in synced["messageList"] if m["type"] == "TIMTextElem"] == ["Bob B"]


async def test_who_may_set_whose_name_card(open_tab, alice, bob, carol, dave):
    await arrange(alice, members=["bob", "carol", "dave"], admins=[bob, carol])
    a, b, d = await open_tab(alice), await open_tab(bob), await open_tab(dave)
    outsider = await open_tab(await database_sync_to_async(make_user)("erin"))

    assert (await b.request("setGroupMemberNameCard", groupID="g1", userID="dave", nameCard="D"))["member"]["nameCard"] == "D"
    await refused(b, 10007, "setGroupMemberNameCard", groupID="g1", userID="carol", nameCard="C")
    await refused(b, 10007, "setGroupMemberNameCard", groupID="g1", userID="alice", nameCard="A")
    await refused(d, 10007, "setGroupMemberNameCard", groupID="g1", userID="bob", nameCard="B")
    await refused(outsider, 10007, "setGroupMemberNameCard", groupID="g1", nameCard="E")
    assert (await a.request("setGroupMemberNameCard", groupID="g1", userID="carol", nameCard="C"))["member"]["nameCard"] == "C"
    await refused(a, 2623, "setGroupMemberNameCard", groupID="g1", userID="nobody", nameCard="N")
    await refused(a, 10004, "setGroupMemberNameCard", groupID="g1", nameCard="x" * 51)
    await refused(a, 10004, "setGroupMemberNameCard", groupID="g1", nameCard="é" * 26)
    await refused(a, 10004, "setGroupMemberNameCard", groupID="g1")
    await refused(a, 10010, "setGroupMemberNameCard", groupID="nope", nameCard="A")
    await refused(a, 2602, "setGroupMemberNameCard", groupID="", nameCard="A")
    assert (await a.request("setGroupMemberNameCard", groupID="g1", nameCard="x" * 50))["member"]["nameCard"] == "x" * 50


@pytest.mark.parametrize("viewer", ["bob", "carol"])
async def test_name_card_events_applied_to_the_old_state_equal_a_fresh_fetch(open_tab, alice, bob, carol, viewer):
    a, b, tab, old = await viewing(open_tab, alice, bob, carol, viewer)

    await b.request("setGroupMemberNameCard", groupID="g1", nameCard="Bobby")
    await a.request("setGroupMemberNameCard", groupID="g1", userID="carol", nameCard="Cee")
    message = {"to": "g1", "conversationType": "GROUP", "type": "TIMTextElem", "payload": {"text": "hi"}}
    await (await open_tab(bob)).request("sendMessage", message=message)  # another tab: the viewer's gets the event
    await a.request("setGroupMemberNameCard", groupID="g1", userID="bob", nameCard="")

    events = await tab.drain(settle=0.3)
    fresh = await state(tab)
    assert comparable(apply_events(old, events)) == comparable(fresh)
    assert {m["userID"]: m["nameCard"] for m in fresh["members"]} == {"alice": "", "bob": "", "carol": "Cee"}


# --- state replay ---------------------------------------------------------------------------


def with_group_profiles(applied):
    """What the client's sync after GROUP_LIST_UPDATED gives each group conversation:
    the group's profile from the (applied) group list."""
    groups = {g["groupID"]: {k: v for k, v in g.items() if k != "selfInfo"} for g in applied["groups"]}
    for conversation in applied["conversations"]:
        profile = conversation.get("groupProfile")
        if profile:
            conversation["groupProfile"] = groups[profile["groupID"]]
    return applied


def group_profiles(state):
    return {c["conversationID"]: c["groupProfile"] for c in state["conversations"]}


@pytest.mark.parametrize("viewer", ["bob", "carol"])
async def test_admin_ops_events_applied_to_the_old_state_equal_a_fresh_fetch(open_tab, alice, bob, carol, viewer):
    a, b, tab, old = await viewing(open_tab, alice, bob, carol, viewer)

    await a.request("updateGroupProfile", groupID="g1", name="Launch", avatar="/media/g.png", muteAllMembers=True)
    await a.request("setGroupMemberRole", groupID="g1", userID="bob", role="Admin")
    await b.request("setGroupMemberMuteTime", groupID="g1", userID="carol", muteTime=600)
    await a.request("updateGroupProfile", groupID="g1", joinOption="DisableApply", notification="Read me")

    events = await tab.drain(settle=0.3)
    fresh = await state(tab)
    applied = with_group_profiles(apply_events(old, events))
    assert comparable(applied) == comparable(fresh)
    assert group_profiles(applied) == group_profiles(fresh)
    assert fresh["groups"][0]["name"] == "Launch" and group_profiles(fresh)["GROUPg1"]["name"] == "Launch"
    for derived, stored in zip(applied["members"], fresh["members"], strict=True):
        assert abs(derived["muteUntil"] - stored["muteUntil"]) <= 1, (derived, stored)


# --- changeGroupOwner -----------------------------------------------------------------------


async def test_owner_transfers_the_group_and_every_member_sees_the_new_owner(open_tab, alice, bob, carol):
    await arrange(alice)
    a, b, c = await open_tab(alice), await open_tab(bob), await open_tab(carol)

    reply = await a.request("changeGroupOwner", groupID="g1", newOwnerID="bob")

    assert (reply["group"]["ownerID"], reply["group"]["selfInfo"]["role"]) == ("bob", "Member")
    for tab, role in ((a, "Member"), (b, "Owner"), (c, "Member")):
        events = await tab.drain(settle=0.3)
        [tip] = tips(events)
        assert (tip["operationType"], tip["newGroupProfile"]) == (rules.TIP_GROUP_PROFILE_UPDATED, {"ownerID": "bob"})
        [group] = events_named(events, "GROUP_LIST_UPDATED")[-1]
        assert (group["ownerID"], group["selfInfo"]["role"]) == ("bob", role)
    members = (await b.request("getGroupMemberList", groupID="g1"))["memberList"]
    assert [(m["userID"], m["role"]) for m in members][0] == ("bob", "Owner")
    await refused(a, 10007, "changeGroupOwner", groupID="g1", newOwnerID="carol")
    await b.request("setGroupMemberRole", groupID="g1", userID="alice", role="Admin")


@pytest.mark.parametrize("viewer", ["bob", "carol"])
async def test_owner_change_events_applied_to_the_old_state_equal_a_fresh_fetch(open_tab, alice, bob, carol, viewer):
    a, b, tab, old = await viewing(open_tab, alice, bob, carol, viewer)

    await a.request("changeGroupOwner", groupID="g1", newOwnerID="bob")

    events = await tab.drain(settle=0.3)
    fresh = await state(tab)
    applied = with_group_profiles(apply_events(old, events))
    assert comparable(applied) == comparable(fresh)
    assert group_profiles(applied) == group_profiles(fresh)
    assert fresh["groups"][0]["ownerID"] == "bob"


async def test_who_may_transfer_a_group(open_tab, alice, bob, carol, dave):
    await arrange(alice, admins=[bob])
    a, b, d = await open_tab(alice), await open_tab(bob), await open_tab(dave)

    await refused(b, 10007, "changeGroupOwner", groupID="g1", newOwnerID="carol")
    await refused(d, 10007, "changeGroupOwner", groupID="g1", newOwnerID="carol")
    await refused(a, 2621, "changeGroupOwner", groupID="g1", newOwnerID="alice")
    await refused(a, 2623, "changeGroupOwner", groupID="g1", newOwnerID="dave")
    await refused(a, 10010, "changeGroupOwner", groupID="nope", newOwnerID="bob")
    await refused(a, 10004, "changeGroupOwner", groupID="g1")


# --- dismissGroup ---------------------------------------------------------------------------


async def test_a_dismissed_group_leaves_every_group_list_and_its_history_stays_readable(open_tab, alice, bob, carol, dave):
    await arrange(alice)
    a, b, d = await open_tab(alice), await open_tab(bob), await open_tab(dave)
    await b.send_text("g1", "before", conversation_type="GROUP")
    await a.drain(settle=0.3)
    await b.drain()
    old = await state(b)
    old["members"] = []  # a dismissed group has no member list to fetch

    assert await a.request("dismissGroup", groupID="g1") == {"groupID": "g1"}

    received = {}
    for tab in (a, b):
        events = received[tab] = await tab.drain(settle=0.3)
        # The notice in the group's history (bob also gets one in his system conversation:
        # tests/test_group_applications_protocol.py).
        [notice] = [m for batch in events_named(events, "MESSAGE_RECEIVED") for m in batch if m["conversationID"] == "GROUPg1"]
        assert notice["type"] == rules.GROUP_SYSTEM_NOTICE
        assert (notice["payload"]["operationType"], notice["payload"]["groupProfile"]["groupID"]) == (5, "g1")
        assert events_named(events, "GROUP_LIST_UPDATED") == [[]]
    assert await d.drain() == []
    history = (await b.request("getMessageList", conversationID="GROUPg1"))["messageList"]
    assert [m["payload"].get("text") for m in history if m["type"] == "TIMTextElem"] == ["before"]
    assert history[-1]["type"] == rules.GROUP_SYSTEM_NOTICE
    conversations = (await b.request("getConversationList"))["conversationList"]
    assert [c["conversationID"] for c in conversations] == [rules.SYSTEM_CONVERSATION_ID, "GROUPg1"]  # + bob's notice
    message = {"to": "g1", "conversationType": "GROUP", "type": "TIMTextElem", "payload": {"text": "anyone?"}}
    await refused(b, 10010, "sendMessage", message=message)
    await refused(a, 10010, "getGroupProfile", groupID="g1")
    await refused(a, 10010, "dismissGroup", groupID="g1")
    await refused(d, 10010, "joinGroup", groupID="g1")

    # The old group list, conversation list and history with the events applied (the
    # notice with its patch, GROUP_LIST_UPDATED) equal a fresh fetch.
    fresh = {
        "groups": (await b.request("getGroupList"))["groupList"],
        "members": [],
        "conversations": conversations,
        "history": history,
    }
    assert comparable(apply_events(old, received[b])) == comparable(fresh)


async def test_who_may_dismiss_a_group(open_tab, alice, bob, carol, dave):
    await arrange(alice, admins=[bob])
    b, c, d = await open_tab(bob), await open_tab(carol), await open_tab(dave)
    await refused(b, 10007, "dismissGroup", groupID="g1")
    await refused(c, 10007, "dismissGroup", groupID="g1")
    await refused(d, 10007, "dismissGroup", groupID="g1")
    await refused(d, 2602, "dismissGroup", groupID="")


async def test_a_work_group_is_dismissed_by_the_app_admin_only(open_tab, alice, bob, superuser):
    await arrange(alice, group_type="Private", members=["bob"])
    a, b = await open_tab(alice), await open_tab(bob)
    await refused(a, 2622, "dismissGroup", groupID="g1")

    await database_sync_to_async(actions.dismiss_group)(superuser, "g1", by_admin=True)

    assert events_named(await b.drain(settle=0.3), "GROUP_LIST_UPDATED") == [[]]
    await refused(a, 10010, "getGroupMemberList", groupID="g1")


# --- memberCount ----------------------------------------------------------------------------


def with_member_counts(applied, events):
    """The tips of joins, quits and removals carry the group's new memberCount: the
    client sets it on its group list (tim.js does, and fires GROUP_LIST_UPDATED)."""
    groups = {g["groupID"]: g for g in applied["groups"]}
    for batch in events_named(events, "MESSAGE_RECEIVED"):
        for message in batch:
            count = message["payload"].get("memberCount") if message["type"] == rules.GROUP_TIP else None
            if count is not None and message["to"] in groups:
                groups[message["to"]]["memberCount"] = count
    return applied


async def test_every_members_group_list_follows_the_member_count(open_tab, alice, bob, carol, dave):
    await arrange(alice)
    a, c, d = await open_tab(alice), await open_tab(carol), await open_tab(dave)
    old = await state(c)
    assert old["groups"][0]["memberCount"] == 3

    await d.request("joinGroup", groupID="g1")
    await a.request("deleteGroupMember", groupID="g1", userIDList=["bob"])
    await a.request("addGroupMember", groupID="g1", userIDList=["bob"])
    await d.request("quitGroup", groupID="g1")
    await d.request("joinGroup", groupID="g1")

    events = await c.drain(settle=0.3)
    assert [t["memberCount"] for t in tips(events)] == [4, 3, 4, 3, 4]
    assert events_named(events, "GROUP_LIST_UPDATED") == []  # a patch, not a refetch of every member's list
    fresh = await state(c)
    applied = with_member_counts(apply_events(old, events), events)
    assert applied["groups"] == fresh["groups"]
    assert fresh["groups"][0]["memberCount"] == len(fresh["members"]) == 4
    assert comparable(applied)["history"] == comparable(fresh)["history"]


# --- getGroupMemberProfile ------------------------------------------------------------------


async def test_get_group_member_profile_gives_the_named_members_to_members_only(open_tab, alice, bob, carol, dave):
    await arrange(alice)
    await database_sync_to_async(actions.set_member_name_card)(carol, "g1", None, "Cee")
    b, d = await open_tab(bob), await open_tab(dave)

    reply = await b.request("getGroupMemberProfile", groupID="g1", userIDList=["carol", "nobody", "dave", "alice"])

    assert [(m["userID"], m["nameCard"], m["role"]) for m in reply["memberList"]] == [
        ("carol", "Cee", "Member"),
        ("alice", "", "Owner"),
    ]
    await refused(d, 10007, "getGroupMemberProfile", groupID="g1", userIDList=["carol"])
    await refused(b, 10004, "getGroupMemberProfile", groupID="g1", userIDList=[])
    await refused(b, 10004, "getGroupMemberProfile", groupID="g1", userIDList=[f"u{i}" for i in range(51)])
    await refused(b, 10010, "getGroupMemberProfile", groupID="nope", userIDList=["carol"])
    await refused(b, 2602, "getGroupMemberProfile", groupID="", userIDList=["carol"])


# --- searchGroupByID ------------------------------------------------------------------------


async def test_search_group_by_id_shows_a_public_group_to_anyone_and_a_work_group_to_no_stranger(open_tab, alice, bob, dave):
    await arrange(alice)
    d = await open_tab(dave)

    group = (await d.request("searchGroupByID", groupID="g1"))["group"]

    assert (group["groupID"], group["type"], group["ownerID"]) == ("g1", "Public", "alice") and "selfInfo" not in group
    await database_sync_to_async(make_group)(alice, group_type="Private", group_id="w1", members=["bob"])
    await refused(d, 10010, "searchGroupByID", groupID="w1")  # as if it did not exist: nothing leaks
    await refused(d, 10010, "searchGroupByID", groupID="nope")
    await refused(d, 2602, "searchGroupByID", groupID="")
    assert (await (await open_tab(bob)).request("searchGroupByID", groupID="w1"))["group"]["groupID"] == "w1"


async def test_get_group_profile_of_a_work_group_is_its_members_only(open_tab, alice, bob, dave):
    """A stranger learned a private Work group's introduction, notice, owner, size and
    activity (nextMessageSeq) from getGroupProfile: now 10010, as if it did not exist."""
    await database_sync_to_async(make_group)(alice, group_type="Private", group_id="w1", members=["bob"])
    b, d = await open_tab(bob), await open_tab(dave)

    await refused(d, 10010, "getGroupProfile", groupID="w1")
    assert (await b.request("getGroupProfile", groupID="w1"))["group"]["selfInfo"]["role"] == "Member"
    await arrange(alice)  # a Public group stays readable by anyone (to join it)
    assert "selfInfo" not in (await d.request("getGroupProfile", groupID="g1"))["group"]


async def test_bidi_controls_are_dropped_from_group_names(open_tab, alice, bob, carol):
    """A right-to-left override in a group name made it read backwards in every list."""
    await arrange(alice)
    a = await open_tab(alice)
    renamed = await a.request("updateGroupProfile", groupID="g1", name="\u202eTeam\u202c")
    assert renamed["group"]["name"] == "Team"
    created = await a.request("createGroup", type="Public", name="Ops\u2066\u200f", groupID="g2")
    assert created["group"]["name"] == "Ops"
    await refused(a, 10004, "createGroup", type="Public", name="\u202e\u202c", groupID="g3")
