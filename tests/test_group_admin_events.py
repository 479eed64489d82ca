"""Events of the group-admin and profile actions agree with a refetch (Zulip's verify_action).

A member's tab takes its state (group list, member list, conversation list, history),
the action runs (as the Django admin or a member would run it), the events the tab
received are applied to the old state the way the SDK applies them, and the result
must equal what the tab fetches afterwards.
"""

import pytest
from channels.db import database_sync_to_async

from messaging import actions, rules
from tests.chat_helpers import fast_passwords, make_group, send_text  # noqa: F401
from tests.ws import events_named

pytestmark = pytest.mark.django_db(transaction=True)


async def state(tab, group_id="g1"):
    groups = (await tab.request("getGroupList"))["groupList"]
    members = (await tab.request("getGroupMemberList", groupID=group_id))["memberList"]
    conversations = (await tab.request("getConversationList"))["conversationList"]
    history = (await tab.request("getMessageList", conversationID=rules.group_conversation_id(group_id)))["messageList"]
    return {"groups": groups, "members": members, "conversations": conversations, "history": history}


def apply_events(old, events):
    """The SDK's handling of each event, applied to ``old``."""
    new = {key: [dict(item) for item in value] for key, value in old.items()}
    for frame in events:
        name, data = frame["event"], frame["data"]
        if name == "GROUP_LIST_UPDATED":
            new["groups"] = data
        elif name == "CONVERSATION_LIST_UPDATED":
            by_id = {c["conversationID"]: c for c in new["conversations"]}
            for patch in data:
                if patch["conversationID"] in by_id:
                    by_id[patch["conversationID"]].update(patch)
                elif patch.get("lastMessage"):
                    # A new conversation (the system conversation's first notice): the SDK
                    # fetches it; the patch holds what comparable() looks at.
                    new["conversations"].append({"userProfile": None, "groupProfile": None, "isPinned": False, **patch})
        elif name == "PROFILE_UPDATED":
            profiles = {p["userID"]: p for p in data}
            for entry in new["members"]:
                entry.update({k: profiles[entry["userID"]][k] for k in ("nick", "avatar")} if entry["userID"] in profiles else {})
            for conversation in new["conversations"]:
                peer = conversation.get("userProfile") or {}
                if peer.get("userID") in profiles:
                    # A conversation keeps the brief profile (§4.1): the event's fields it has.
                    conversation["userProfile"] = {k: profiles[peer["userID"]][k] for k in peer}
        elif name == "MESSAGE_RECEIVED":
            for message in data:
                if message["conversationID"] == rules.SYSTEM_CONVERSATION_ID:
                    continue  # a system notice: not in the group's history
                new["history"].append(message)
                for group in new["groups"]:
                    if message["conversationType"] == rules.GROUP and group["groupID"] == message["to"]:
                        group["nextMessageSeq"] = message["sequence"] + 1
                apply_tip(new, message)
    return new


def apply_tip(new, message):
    """What a group tip says about the member list (joins, departures, roles, mutes,
    name cards, custom fields) and the group's memberCount."""
    if message["type"] != rules.GROUP_TIP:
        return
    tip = message["payload"]
    if "memberCount" in tip:
        for group in new["groups"]:
            if group["groupID"] == message["to"]:
                group["memberCount"] = tip["memberCount"]
    if tip["operationType"] == rules.TIP_MEMBER_JOIN:
        new["members"] += [
            {**m, "role": "Member", "nameCard": "", "joinTime": message["time"], "muteUntil": 0, "memberCustomField": []}
            for m in tip["memberList"]
        ]
    if tip["operationType"] in (rules.TIP_MEMBER_QUIT, rules.TIP_MEMBER_KICKED_OUT):
        new["members"] = [m for m in new["members"] if m["userID"] not in tip["userIDList"]]
    members = {m["userID"]: m for m in new["members"]}
    if tip["operationType"] in (rules.TIP_MEMBER_SET_ADMIN, rules.TIP_MEMBER_CANCELED_ADMIN):
        for user_id in tip["userIDList"]:
            members[user_id]["role"] = "Admin" if tip["operationType"] == rules.TIP_MEMBER_SET_ADMIN else "Member"
    new_owner = (tip.get("newGroupProfile") or {}).get("ownerID")
    if tip["operationType"] == rules.TIP_GROUP_PROFILE_UPDATED and new_owner:
        # The owner handed the group over: they become a member, the new owner leads the list.
        members[tip["operatorID"]]["role"] = "Member"
        members[new_owner]["role"] = "Owner"
        new["members"].sort(key=lambda m: m["role"] != "Owner")
    if tip["operationType"] == rules.TIP_MEMBER_PROFILE_UPDATED:
        for entry in tip["memberList"]:
            if "nameCard" in entry:
                members[entry["userID"]]["nameCard"] = entry["nameCard"]
                # The held messages show the sender's current card (tim.js does the same).
                for held in new["history"]:
                    if held["to"] == message["to"] and held["from"] == entry["userID"]:
                        held["nameCard"] = entry["nameCard"]
            if "memberCustomField" in entry:
                fields = {f["key"]: f["value"] for f in members[entry["userID"]]["memberCustomField"]}
                fields.update({f["key"]: f["value"] for f in entry["memberCustomField"]})
                members[entry["userID"]]["memberCustomField"] = [{"key": k, "value": v} for k, v in sorted(fields.items()) if v]
            if "muteTime" in entry:
                mute = entry["muteTime"]
                members[entry["userID"]]["muteUntil"] = message["time"] + mute if mute else 0


def comparable(state):
    """The state without the mute ends and join times (compared apart, to the second)."""
    members = [dict(m, muteUntil=bool(m["muteUntil"]), joinTime=None) for m in state["members"]]
    conversations = sorted(
        (
            {k: c[k] for k in ("conversationID", "unreadCount", "lastMessage", "userProfile", "isPinned")}
            for c in state["conversations"]
        ),
        key=lambda c: c["conversationID"],
    )
    history = [(m["ID"], m["sequence"], m["payload"], m["nameCard"]) for m in state["history"]]
    return {"groups": state["groups"], "members": members, "conversations": conversations, "history": history}


async def verify(tab, old):
    events = await tab.drain(settle=0.3)
    fresh = await state(tab)
    applied = apply_events(old, events)
    assert comparable(applied) == comparable(fresh)
    # A mute ends ``muteTime`` after the tip's time; the row's end is taken a moment
    # before the tip is stamped, so the two may be one second apart.
    for derived, stored in zip(applied["members"], fresh["members"], strict=True):
        assert abs(derived["muteUntil"] - stored["muteUntil"]) <= 1, (derived, stored)
        assert abs(derived["joinTime"] - stored["joinTime"]) <= 1, (derived, stored)
    return events


async def test_app_admin_profile_and_mute_all_events_match_a_refetch(open_tab, alice, bob, boss):
    await database_sync_to_async(make_group)(alice, group_type="Public", members=["bob"])
    b = await open_tab(bob)
    old = await state(b)

    await database_sync_to_async(actions.update_group_profile)(boss, "g1", name="Launch", notification="Go", by_admin=True)
    await database_sync_to_async(actions.set_mute_all)(boss, "g1", True, by_admin=True)

    events = await verify(b, old)
    [group] = events_named(events, "GROUP_LIST_UPDATED")[-1]
    assert (group["name"], group["notification"], group["muteAllMembers"]) == ("Launch", "Go", True)
    tips = [m["payload"]["newGroupProfile"] for batch in events_named(events, "MESSAGE_RECEIVED") for m in batch]
    assert tips == [{"name": "Launch", "notification": "Go"}, {"muteAllMembers": True}]


async def test_role_and_mute_events_match_a_refetch(open_tab, alice, bob, carol):
    await database_sync_to_async(make_group)(alice, group_type="Public", members=["bob", "carol"])
    c = await open_tab(carol)
    old = await state(c)

    await database_sync_to_async(actions.set_member_role)(alice, "g1", "bob", "Admin")
    await database_sync_to_async(actions.mute_member)(bob, "g1", "carol", 600)

    events = await verify(c, old)
    assert [m["payload"]["operationType"] for batch in events_named(events, "MESSAGE_RECEIVED") for m in batch] == [4, 7]
    # carol's own group list did not change: only bob's did.
    assert events_named(events, "GROUP_LIST_UPDATED") == []


async def test_unmute_and_admin_removal_events_match_a_refetch(open_tab, alice, bob, carol):
    def arrange():
        make_group(alice, group_type="Public", members=["bob", "carol"])
        actions.set_member_role(alice, "g1", "bob", "Admin")
        actions.mute_member(alice, "g1", "carol", 600)

    await database_sync_to_async(arrange)()
    b = await open_tab(bob)
    old = await state(b)

    await database_sync_to_async(actions.mute_member)(alice, "g1", "carol", 0)
    await database_sync_to_async(actions.set_member_role)(alice, "g1", "bob", "Member")

    events = await verify(b, old)
    assert [g["selfInfo"]["role"] for g in events_named(events, "GROUP_LIST_UPDATED")[-1]] == ["Member"]


async def test_profile_update_events_match_a_refetch_for_a_peer_and_a_co_member(open_tab, alice, bob, carol, dave):
    def arrange():
        send_text(bob, "alice", "hi")
        make_group(carol, group_type="Public", members=["alice", "bob"])

    await database_sync_to_async(arrange)()
    a, b, c, d = await open_tab(alice), await open_tab(bob), await open_tab(carol), await open_tab(dave)
    old_b, old_c = await state(b), await state(c)

    await database_sync_to_async(actions.update_user_profile)(alice, nick="Ally", avatar="/static/ally.png")

    profile = await a.request("getMyProfile")
    assert (profile["nick"], profile["avatar"]) == ("Ally", "/static/ally.png")
    for tab, old in ((b, old_b), (c, old_c)):
        events = await verify(tab, old)
        assert events_named(events, "PROFILE_UPDATED") == [[profile]]
    assert events_named(await a.drain(), "PROFILE_UPDATED") == [[profile]]
    assert await d.drain() == []


async def test_an_open_tab_sends_with_the_profile_changed_meanwhile(open_tab, alice, bob):
    """The socket's user object goes into every message it sends: it follows PROFILE_UPDATED."""
    a, b = await open_tab(alice), await open_tab(bob)
    await database_sync_to_async(actions.update_user_profile)(alice, nick="Ally", avatar="/static/ally.png")
    await a.wait_event("PROFILE_UPDATED")

    sent = await a.send_text("bob", "new name")

    received = (await b.wait_event("MESSAGE_RECEIVED"))[0]
    assert (sent["nick"], sent["avatar"]) == ("Ally", "/static/ally.png")
    assert (received["nick"], received["avatar"]) == ("Ally", "/static/ally.png")


async def test_membership_events_match_a_refetch(open_tab, alice, bob, carol, dave):
    """Joins, invitations, departures and removals: a member's tab follows the member
    list and the group's memberCount from the tips alone."""
    await database_sync_to_async(make_group)(alice, group_type="Public", members=["bob", "carol"])
    c = await open_tab(carol)
    old = await state(c)
    assert old["groups"][0]["memberCount"] == 3

    await database_sync_to_async(actions.join_group)(dave, "g1")
    await database_sync_to_async(actions.quit_group)(bob, "g1")
    await database_sync_to_async(actions.delete_members)(alice, "g1", ["dave"])
    await database_sync_to_async(actions.add_members)(alice, "g1", ["bob", "dave"])

    events = await verify(c, old)
    ops = [m["payload"]["operationType"] for batch in events_named(events, "MESSAGE_RECEIVED") for m in batch]
    assert ops == [rules.TIP_MEMBER_JOIN, rules.TIP_MEMBER_QUIT, rules.TIP_MEMBER_KICKED_OUT, rules.TIP_MEMBER_JOIN]
    assert events_named(events, "GROUP_LIST_UPDATED") == []  # carol's list follows the tips' memberCount
