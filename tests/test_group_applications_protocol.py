"""Join applications and the system conversation over the socket (docs/PROTOCOL.md
§5.10, §5.43, §5.44, §6.15): joinGroup on a NeedPermission group, the notices to the
owner's and admins' tabs, handleGroupApplication (who may, Agree, Reject, twice), the
notices of the other group actions, the system conversation in history, in the list and
in sync after a reconnect, its unread count outside the total, and 2106 on a send."""

import pytest
from channels.db import database_sync_to_async

from messaging import actions, rules
from messaging.models import GroupApplication
from tests.chat_helpers import db_snapshot, fast_passwords, make_group  # noqa: F401
from tests.test_group_admin_events import apply_events, comparable, state
from tests.ws import events_named

pytestmark = pytest.mark.django_db(transaction=True)

SYSTEM = rules.SYSTEM_CONVERSATION_ID


def arrange(owner, join_option="NeedPermission", members=("carol",), admins=("carol",), group_type="Public"):
    def run():
        make_group(owner, group_type=group_type, members=list(members))
        for admin in admins:
            actions.set_member_role(owner, "g1", admin, "Admin")
        if join_option != "FreeAccess":
            actions.update_group_profile(owner, "g1", join_option=join_option)

    return database_sync_to_async(run)()


async def refused(tab, code, op, **args):
    """``op`` fails with ``code`` and writes nothing."""
    before = await database_sync_to_async(db_snapshot)()
    await tab.expect_error(code, op, **args)
    assert await database_sync_to_async(db_snapshot)() == before


def notices(events):
    """The system notices among the MESSAGE_RECEIVED events."""
    return [m for batch in events_named(events, "MESSAGE_RECEIVED") for m in batch if m["conversationID"] == SYSTEM]


async def apply(tab, message="let me in"):
    return await tab.request("joinGroup", groupID="g1", applyMessage=message)


async def one_notice(tab):
    [notice] = notices(await tab.drain(settle=0.3))
    return notice


async def test_an_application_reaches_the_owner_and_every_admin_tab_as_a_system_notice(open_tab, alice, bob, carol, dave):
    await arrange(alice, members=["carol", "dave"])
    a1, a2, b, c, d = (
        await open_tab(alice),
        await open_tab(alice),
        await open_tab(bob),
        await open_tab(carol),
        await open_tab(dave),
    )

    reply = await apply(b)

    assert reply["status"] == "WaitAdminApproval"
    assert "selfInfo" not in reply["group"]
    # alice's notices: "You created Team", the application; carol's: added to it, made admin, the application
    for tab, unread in ((a1, 2), (a2, 2), (c, 3)):
        events = await tab.drain(settle=0.3)
        [notice] = notices(events)
        assert notice["type"] == rules.GROUP_SYSTEM_NOTICE
        assert (notice["conversationType"], notice["from"], notice["flow"]) == (SYSTEM, SYSTEM, "in")
        payload = notice["payload"]
        assert (payload["operationType"], payload["operatorID"], payload["handleMessage"]) == (1, "bob", "let me in")
        assert payload["groupProfile"]["groupID"] == "g1"
        assert payload["groupProfile"]["groupName"] == "Team"
        assert payload["userDefinedField"] == ""
        assert notice["messageForShow"] == "bob asked to join Team"
        [patch] = events_named(events, "CONVERSATION_LIST_UPDATED")
        assert patch[0]["conversationID"] == SYSTEM and patch[0]["unreadCount"] == unread
        # The system conversation keeps its own count: the total does not move.
        assert events_named(events, "TOTAL_UNREAD_MESSAGE_COUNT_UPDATED") == []
    assert await d.drain() == []  # an ordinary member hears nothing
    assert [e["event"] for e in await b.drain()] == []  # nor does the applicant, yet
    assert (await a1.request("getTotalUnreadMessageCount"))["totalUnreadCount"] == 0
    assert not await database_sync_to_async(lambda: bob.group_memberships.exists())()


async def test_applying_again_while_pending_adds_nothing(open_tab, alice, bob):
    await arrange(alice, members=[], admins=[])
    a, b = await open_tab(alice), await open_tab(bob)
    await apply(b)
    await one_notice(a)

    before = await database_sync_to_async(db_snapshot)()
    assert (await apply(b, "again"))["status"] == "WaitAdminApproval"
    assert await database_sync_to_async(db_snapshot)() == before
    assert await a.drain() == []
    assert await database_sync_to_async(GroupApplication.objects.count)() == 1


async def test_agree_adds_the_member_and_tells_the_applicant(open_tab, alice, bob, carol):
    await arrange(alice)
    a, b, c = await open_tab(alice), await open_tab(bob), await open_tab(carol)
    await apply(b)
    notice = await one_notice(c)
    await a.drain(settle=0.3)

    reply = await c.request("handleGroupApplication", handleAction="Agree", handleMessage="welcome", message={"ID": notice["ID"]})

    assert reply["group"]["memberCount"] == 3
    events = await b.drain(settle=0.3)
    [answer] = notices(events)
    assert (answer["payload"]["operationType"], answer["payload"]["operatorID"]) == (2, "carol")
    assert answer["payload"]["handleMessage"] == "welcome"
    assert answer["messageForShow"] == "Your request to join Team was accepted"
    [groups] = events_named(events, "GROUP_LIST_UPDATED")
    assert [g["groupID"] for g in groups] == ["g1"]
    tips = [m for batch in events_named(events, "MESSAGE_RECEIVED") for m in batch if m["type"] == rules.GROUP_TIP]
    assert [(t["payload"]["operationType"], t["payload"]["groupJoinType"], t["payload"]["memberCount"]) for t in tips] == [
        (1, 1, 3)
    ]
    for tab in (a, c):
        [tip] = [m for batch in events_named(await tab.drain(settle=0.3), "MESSAGE_RECEIVED") for m in batch]
        assert tip["payload"]["userIDList"] == ["bob"] and tip["payload"]["memberCount"] == 3
    assert (await b.send_text("g1", "hi all", conversation_type="GROUP"))["to"] == "g1"

    # The same application again, from either notice: 10024, nothing written.
    await refused(
        c, 10024, "handleGroupApplication", handleAction="Agree", message={"ID": notice["ID"], "conversationID": SYSTEM}
    )
    owner_notice = (await a.request("getMessageList", conversationID=SYSTEM))["messageList"][-1]
    await refused(a, 10024, "handleGroupApplication", handleAction="Reject", message={"ID": owner_notice["ID"]})


async def test_reject_adds_nobody_and_tells_the_applicant_who_may_apply_again(open_tab, alice, bob):
    await arrange(alice, members=[], admins=[])
    a, b = await open_tab(alice), await open_tab(bob)
    await apply(b)
    notice = await one_notice(a)

    await a.request("handleGroupApplication", handleAction="Reject", handleMessage="not now", message={"ID": notice["ID"]})

    [answer] = notices(await b.drain(settle=0.3))
    assert (answer["payload"]["operationType"], answer["payload"]["handleMessage"]) == (3, "not now")
    assert answer["messageForShow"] == "Your request to join Team was refused"
    # Still a stranger: the group as a non-member sees it (no notification, counter, custom fields).
    assert answer["payload"]["groupProfile"]["groupName"] == "Team"
    assert not {"notification", "nextMessageSeq", "groupCustomField"} & set(answer["payload"]["groupProfile"])
    profile = (await a.request("getGroupProfile", groupID="g1"))["group"]
    assert profile["memberCount"] == 1
    assert await a.drain() == []
    # A new application: a new notice; the old notice does not answer it.
    await apply(b, "please")
    fresh = await one_notice(a)
    await refused(a, 10024, "handleGroupApplication", handleAction="Agree", message={"ID": notice["ID"]})
    await a.request("handleGroupApplication", handleAction="Agree", message={"ID": fresh["ID"]})
    assert (await a.request("getGroupProfile", groupID="g1"))["group"]["memberCount"] == 2


async def test_who_may_handle_an_application(open_tab, alice, bob, carol, dave):
    await arrange(alice, members=["carol", "dave"], admins=["carol"])
    a, b, c, d = await open_tab(alice), await open_tab(bob), await open_tab(carol), await open_tab(dave)
    await apply(b)
    notice = await one_notice(a)
    await c.drain(settle=0.3)
    # carol is demoted: her notice no longer lets her answer.
    await database_sync_to_async(actions.set_member_role)(alice, "g1", "carol", "Member")
    await c.drain(settle=0.3)
    history = (await c.request("getMessageList", conversationID=SYSTEM))["messageList"]
    [carol_notice] = [m for m in history if m["payload"]["operationType"] == 1]

    await refused(c, 10007, "handleGroupApplication", handleAction="Agree", message={"ID": carol_notice["ID"]})
    # Not their notice: it is in alice's system conversation only.
    await refused(d, 10030, "handleGroupApplication", handleAction="Agree", message={"ID": notice["ID"]})
    await refused(b, 10030, "handleGroupApplication", handleAction="Agree", message={"ID": notice["ID"]})
    # A message that is not a join application.
    [demoted] = [
        m
        for m in (await c.request("getMessageList", conversationID=SYSTEM))["messageList"]
        if m["payload"]["operationType"] == 10
    ]
    await database_sync_to_async(actions.set_member_role)(alice, "g1", "carol", "Admin")
    await refused(c, 10004, "handleGroupApplication", handleAction="Agree", message={"ID": demoted["ID"]})
    await refused(a, 10004, "handleGroupApplication", handleAction="Maybe", message={"ID": notice["ID"]})
    await refused(a, 10004, "handleGroupApplication", handleAction="Agree", handleMessage="x" * 301, message={"ID": notice["ID"]})
    await refused(
        a, 2503, "handleGroupApplication", handleAction="Agree", message={"ID": notice["ID"], "conversationID": "C2Cbob"}
    )
    # The owner and a (re-appointed) admin may.
    await c.request("handleGroupApplication", handleAction="Agree", message={"ID": carol_notice["ID"]})
    assert (await a.request("getGroupProfile", groupID="g1"))["group"]["memberCount"] == 4


async def test_an_ex_admin_who_left_the_group_may_not_handle(open_tab, alice, bob, carol):
    await arrange(alice)
    b, c = await open_tab(bob), await open_tab(carol)
    await apply(b)
    notice = await one_notice(c)
    await database_sync_to_async(actions.delete_members)(alice, "g1", ["carol"])
    await c.drain(settle=0.3)
    await refused(c, 10007, "handleGroupApplication", handleAction="Agree", message={"ID": notice["ID"]})


async def test_disable_apply_refuses_joins_and_free_access_joins_at_once(open_tab, alice, bob, carol):
    await arrange(alice, join_option="DisableApply", members=[], admins=[])
    b = await open_tab(bob)
    await refused(b, 10007, "joinGroup", groupID="g1")
    await refused(b, 10004, "joinGroup", groupID="g1", applyMessage="x" * 301)
    await database_sync_to_async(actions.update_group_profile)(alice, "g1", join_option="FreeAccess")
    assert (await b.request("joinGroup", groupID="g1"))["status"] == "JoinedSuccess"


async def test_need_permission_is_for_public_groups(open_tab, alice, bob):
    a = await open_tab(alice)
    await refused(a, 10004, "createGroup", type="ChatRoom", name="Meet", joinOption="NeedPermission")
    created = await a.request("createGroup", type="Public", name="Open", groupID="p1", joinOption="NeedPermission")
    assert created["group"]["joinOption"] == "NeedPermission"
    await a.request("createGroup", type="ChatRoom", name="Meet", groupID="m1")
    await refused(a, 10004, "updateGroupProfile", groupID="m1", joinOption="NeedPermission")


async def test_the_system_conversation_in_the_list_history_read_and_total(open_tab, alice, bob):
    await arrange(alice, members=[], admins=[])
    a, b = await open_tab(alice), await open_tab(bob)
    await b.send_text("alice", "hello")
    await apply(b)
    await a.drain(settle=0.3)

    listed = {c["conversationID"]: c for c in (await a.request("getConversationList"))["conversationList"]}
    system = listed[SYSTEM]
    # "You created Team" and bob's application
    assert (system["type"], system["unreadCount"], system["userProfile"], system["groupProfile"]) == (SYSTEM, 2, None, None)
    assert system["lastMessage"]["messageForShow"] == "bob asked to join Team"
    assert system["lastMessage"]["fromAccount"] == SYSTEM
    assert (await a.request("getTotalUnreadMessageCount"))["totalUnreadCount"] == 1  # bob's C2C message only
    profile = (await a.request("getConversationProfile", conversationID=SYSTEM))["conversation"]
    assert profile["unreadCount"] == 2
    created, notice = (await a.request("getMessageList", conversationID=SYSTEM))["messageList"]
    assert created["payload"]["operationType"] == 6 and created["messageForShow"] == "You created Team"
    assert notice["payload"]["operationType"] == 1 and notice["conversationID"] == SYSTEM

    await a.request("setMessageRead", conversationID=SYSTEM)
    events = await a.drain(settle=0.3)
    assert events_named(events, "TOTAL_UNREAD_MESSAGE_COUNT_UPDATED") == []
    listed = {c["conversationID"]: c for c in (await a.request("getConversationList"))["conversationList"]}
    assert listed[SYSTEM]["unreadCount"] == 0 and listed["C2Cbob"]["unreadCount"] == 1
    # A new socket counts the same: the system conversation is not in its total.
    await apply(await open_tab(await database_sync_to_async(lambda: actions.create_user("erin", password="x"))()))
    fresh = await open_tab(alice)
    assert fresh.initial_unread == 1


async def test_sending_to_the_system_conversation_is_2106(open_tab, alice, bob):
    await arrange(alice, members=[], admins=[])
    a, b = await open_tab(alice), await open_tab(bob)
    await apply(b)
    await a.drain(settle=0.3)
    for to in ("", "alice", SYSTEM):
        await refused(
            a,
            2106,
            "sendMessage",
            message={"to": to, "conversationType": SYSTEM, "type": "TIMTextElem", "payload": {"text": "hi"}},
        )
    *_, notice = (await a.request("getMessageList", conversationID=SYSTEM))["messageList"]
    await refused(
        a,
        2453,
        "sendMessage",
        message={"to": "bob", "conversationType": "C2C", "forward": {"ID": notice["ID"], "conversationID": SYSTEM}},
    )
    await refused(a, 10032, "revokeMessage", message={"ID": notice["ID"], "conversationID": SYSTEM})


async def test_a_notice_missed_while_offline_comes_back_in_sync(open_tab, alice, bob):
    await arrange(alice, members=[], admins=[])
    a, b = await open_tab(alice), await open_tab(bob)
    await apply(b, "first")
    first = await one_notice(a)
    cursors = {c["conversationID"]: c["syncCursor"] for c in (await a.request("getConversationList"))["conversationList"]}
    await a.close()
    # While alice is away: the answer and a second group's application.
    await a_handles(alice, first["ID"], "Reject")
    await database_sync_to_async(make_group)(alice, group_type="Public", group_id="g2", name="Two")
    await database_sync_to_async(actions.update_group_profile)(alice, "g2", join_option="NeedPermission")
    await b.request("joinGroup", groupID="g2", applyMessage="second")

    back = await open_tab(alice)
    synced = await back.request("sync", cursors=cursors)
    [entry] = [c for c in synced["conversations"] if c["conversationID"] == SYSTEM]
    assert [(m["payload"]["operationType"], m["payload"]["handleMessage"]) for m in entry["messageList"]] == [
        (6, ""),  # "You created Two"
        (1, "second"),
    ]
    [system] = [c for c in synced["conversationList"] if c["conversationID"] == SYSTEM]
    assert system["unreadCount"] == 4 and system["syncCursor"] == entry["syncCursor"]
    # bob, who never had a system conversation when he connected, gets his answer by sync too.
    synced = await b.request("sync", cursors={})
    [entry] = [c for c in synced["conversations"] if c["conversationID"] == SYSTEM]
    assert [m["payload"]["operationType"] for m in entry["messageList"]] == [3]


def a_handles(user, notice_id, action):
    return database_sync_to_async(actions.handle_group_application)(user, notice_id, action)


async def test_approval_events_applied_to_old_state_equal_a_fresh_fetch(open_tab, alice, bob, carol):
    await arrange(alice)
    a, b, c = await open_tab(alice), await open_tab(bob), await open_tab(carol)
    await apply(b)
    notice = await one_notice(a)
    await c.drain(settle=0.3)
    old_c = await state(c)
    old_a = await system_state(a)

    await a.request("handleGroupApplication", handleAction="Agree", message={"ID": notice["ID"]})

    events = await c.drain(settle=0.3)
    assert comparable(apply_events(old_c, events)) == comparable(await state(c))
    # The applicant's side: the new group and the answer in the system conversation.
    events = await b.drain(settle=0.3)
    fresh = await system_state(b)
    assert [m["payload"]["operationType"] for m in fresh["history"]] == [2]
    assert notices(events) == fresh["history"]
    [patch] = [p for batch in events_named(events, "CONVERSATION_LIST_UPDATED") for p in batch if p["conversationID"] == SYSTEM]
    [listed] = [c for c in fresh["conversations"] if c["conversationID"] == SYSTEM]
    assert (patch["unreadCount"], patch["lastMessage"]) == (listed["unreadCount"], listed["lastMessage"])
    assert events_named(events, "GROUP_LIST_UPDATED")[-1] == (await b.request("getGroupList"))["groupList"]
    assert (await system_state(a)) == old_a  # the owner's notices stay as they were


async def system_state(tab):
    conversations = (await tab.request("getConversationList"))["conversationList"]
    return {
        "conversations": [c for c in conversations if c["conversationID"] == SYSTEM],
        "history": (await tab.request("getMessageList", conversationID=SYSTEM))["messageList"],
    }


async def test_the_other_group_actions_send_their_notices(open_tab, alice, bob, carol, dave):
    await arrange(alice, join_option="FreeAccess", members=["carol"], admins=[])
    a, b, c, d = await open_tab(alice), await open_tab(bob), await open_tab(carol), await open_tab(dave)

    await a.request("addGroupMember", groupID="g1", userIDList=["bob", "dave"])
    for tab in (b, d):
        [notice] = notices(await tab.drain(settle=0.3))
        assert (notice["payload"]["operationType"], notice["payload"]["operatorID"]) == (7, "alice")
        assert notice["messageForShow"] == "alice added you to Team"
    await a.request("setGroupMemberRole", groupID="g1", userID="bob", role="Admin")
    assert [n["payload"]["operationType"] for n in notices(await b.drain(settle=0.3))] == [9]
    await a.request("setGroupMemberRole", groupID="g1", userID="bob", role="Member")
    assert [n["messageForShow"] for n in notices(await b.drain(settle=0.3))] == ["alice removed you as an admin of Team"]
    await a.request("deleteGroupMember", groupID="g1", userIDList=["dave"])
    assert [n["payload"]["operationType"] for n in notices(await d.drain(settle=0.3))] == [4]
    await c.drain(settle=0.3)
    await a.request("dismissGroup", groupID="g1")
    for tab in (b, c):
        [notice] = notices(await tab.drain(settle=0.3))
        assert notice["payload"]["operationType"] == 5 and notice["messageForShow"] == "alice dismissed Team"
    assert notices(await a.drain(settle=0.3)) == []
    assert notices(await d.drain(settle=0.3)) == []
    # Everything is in the history too, in order.
    history = (await b.request("getMessageList", conversationID=SYSTEM))["messageList"]
    assert [m["payload"]["operationType"] for m in history] == [7, 9, 10, 5]


async def test_get_group_application_list(open_tab, alice, bob, carol, dave):
    await arrange(alice, members=["carol", "dave"], admins=["carol"])
    a, b, c, d = await open_tab(alice), await open_tab(bob), await open_tab(carol), await open_tab(dave)
    assert (await a.request("getGroupApplicationList")) == {"applicationList": [], "unreadCount": 0}
    await apply(b)
    notice = await one_notice(c)

    listed = await c.request("getGroupApplicationList")
    assert listed["unreadCount"] == 1
    [entry] = listed["applicationList"]
    assert (entry["groupID"], entry["groupName"], entry["fromUser"], entry["requestMsg"]) == ("g1", "Team", "bob", "let me in")
    assert entry["message"]["ID"] == notice["ID"]
    assert (await d.request("getGroupApplicationList"))["applicationList"] == []
    assert (await b.request("getGroupApplicationList"))["applicationList"] == []
    await c.request("handleGroupApplication", handleAction="Reject", message={"ID": entry["message"]["ID"]})
    assert (await a.request("getGroupApplicationList"))["applicationList"] == []


async def test_a_deleted_system_conversation_comes_back_with_the_next_notice(open_tab, alice, bob, carol):
    await arrange(alice, members=[], admins=[])
    a, b, c = await open_tab(alice), await open_tab(bob), await open_tab(carol)
    await c.expect_error(2500, "getConversationProfile", conversationID=SYSTEM)  # no notice yet
    await apply(b)
    await one_notice(a)
    await a.request("deleteConversation", conversationID=SYSTEM)
    listed = (await a.request("getConversationList"))["conversationList"]
    assert SYSTEM not in [conv["conversationID"] for conv in listed]
    await a.drain(settle=0.3)

    await apply(c, "me too")
    events = await a.drain(settle=0.3)
    [patch] = [p for batch in events_named(events, "CONVERSATION_LIST_UPDATED") for p in batch]
    assert (patch["conversationID"], patch["unreadCount"]) == (SYSTEM, 1)
    [system] = [conv for conv in (await a.request("getConversationList"))["conversationList"] if conv["conversationID"] == SYSTEM]
    assert system["unreadCount"] == 1 and system["lastMessage"]["messageForShow"] == "carol asked to join Team"
    # The history keeps every notice.
    history = (await a.request("getMessageList", conversationID=SYSTEM))["messageList"]
    assert [m["payload"]["operatorID"] for m in history] == ["alice", "bob", "carol"]  # "You created Team" first


# --- created (6), quit (8), custom (255) ------------------------------------------------------------


async def test_creating_a_group_and_quitting_it_leave_notices_for_who_did_it(open_tab, alice, bob, carol):
    a, b, c = await open_tab(alice), await open_tab(bob), await open_tab(carol)
    await a.request("createGroup", type="Public", name="Team", groupID="g1", memberList=[{"userID": "bob"}])

    [created] = notices(await a.drain(settle=0.3))
    assert (created["payload"]["operationType"], created["payload"]["operatorID"]) == (6, "alice")
    assert created["messageForShow"] == "You created Team"
    [added] = notices(await b.drain(settle=0.3))
    assert (added["payload"]["operationType"], added["messageForShow"]) == (7, "alice added you to Team")
    assert notices(await c.drain()) == []

    await b.request("quitGroup", groupID="g1")
    [left] = notices(await b.drain(settle=0.3))
    assert (left["payload"]["operationType"], left["payload"]["operatorID"], left["messageForShow"]) == (
        8,
        "bob",
        "You left Team",
    )
    assert notices(await a.drain(settle=0.3)) == []  # the others see the group tip, not a notice
    history = (await b.request("getMessageList", conversationID=SYSTEM))["messageList"]
    assert [m["payload"]["operationType"] for m in history] == [7, 8]


async def test_a_custom_notice_reaches_every_member_with_its_text(open_tab, alice, bob, carol, dave):
    await arrange(alice, join_option="FreeAccess", members=["bob", "carol"], admins=["carol"])
    a, b, c, d = await open_tab(alice), await open_tab(bob), await open_tab(carol), await open_tab(dave)

    await database_sync_to_async(actions.post_custom_notice)(carol, "g1", "Maintenance tonight at 9")

    for tab in (a, b, c):
        [notice] = notices(await tab.drain(settle=0.3))
        payload = notice["payload"]
        assert (payload["operationType"], payload["operatorID"], payload["userDefinedField"]) == (
            255,
            "carol",
            "Maintenance tonight at 9",
        )
        assert notice["messageForShow"] == "Team: Maintenance tonight at 9"
    assert await d.drain() == []


async def test_who_may_send_a_custom_notice(alice, bob, carol, dave, db):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from messaging.errors import ChatError

    await arrange(alice, join_option="FreeAccess", members=["bob", "carol"], admins=["carol"])
    before = await database_sync_to_async(db_snapshot)()
    for user, text, code in ((bob, "hi", 10007), (dave, "hi", 10007), (alice, "", 10004), (alice, "x" * 1025, 10004)):
        with pytest.raises(ChatError) as refusal:
            await database_sync_to_async(actions.post_custom_notice)(user, "g1", text)
        assert refusal.value.code == code
    assert await database_sync_to_async(db_snapshot)() == before

    # The app admin's transport: a management command.
    await database_sync_to_async(actions.create_user)("root", password="x", is_superuser=True)
    out = __import__("io").StringIO()
    await database_sync_to_async(call_command)("group_notice", "g1", "Read the rules", stdout=out)
    assert "3 members of g1" in out.getvalue()
    last = await database_sync_to_async(
        lambda: bob.conversations.get(conversation_id=SYSTEM).last_message.payload["userDefinedField"]
    )()
    assert last == "Read the rules"
    with pytest.raises(CommandError, match="10010"):
        await database_sync_to_async(call_command)("group_notice", "nope", "x")


async def test_an_application_cannot_be_agreed_once_the_applicant_is_banned_or_the_group_closed(open_tab, alice, bob, carol):
    """Agreeing to an old application added a banned user, or joined someone to a group that
    had since stopped taking applications; each is refused now, and Reject still closes it."""
    await arrange(alice, members=[], admins=[])
    a = await open_tab(alice)
    b, c = await open_tab(bob), await open_tab(carol)
    await apply(b)
    from_bob = await one_notice(a)
    await apply(c)
    from_carol = await one_notice(a)

    await database_sync_to_async(actions.set_user_active)(bob, False)
    await refused(a, 20003, "handleGroupApplication", handleAction="Agree", message={"ID": from_bob["ID"]})
    await database_sync_to_async(actions.update_group_profile)(alice, "g1", join_option="DisableApply")
    await refused(a, 10007, "handleGroupApplication", handleAction="Agree", message={"ID": from_carol["ID"]})
    await a.request("handleGroupApplication", handleAction="Reject", message={"ID": from_carol["ID"]})
    members = (await a.request("getGroupMemberList", groupID="g1"))["memberList"]
    assert [m["userID"] for m in members] == ["alice"]


async def test_created_quit_and_custom_notice_events_applied_to_old_state_equal_a_fresh_fetch(open_tab, alice, bob, carol):
    """The system conversation as a tab holds it (its list entry and history), with the
    MESSAGE_RECEIVED and CONVERSATION_LIST_UPDATED of notices 6, 7, 255 and 8 applied, equals
    what a fresh fetch returns."""
    from tests.test_consumer import apply_patches

    b = await open_tab(bob)

    async def system_state():
        listed = (await b.request("getConversationList"))["conversationList"]
        entry = next((c for c in listed if c["conversationID"] == SYSTEM), None)
        history = (await b.request("getMessageList", conversationID=SYSTEM))["messageList"] if entry else []
        return listed, history

    old_list, old_history = await system_state()
    await database_sync_to_async(make_group)(alice, group_type="Public", members=["bob", "carol"])  # 7 to bob
    await database_sync_to_async(actions.post_custom_notice)(alice, "g1", "Welcome")  # 255
    await b.request("quitGroup", groupID="g1")  # 8

    events = await b.drain(settle=0.3)
    received = notices(events)
    assert [m["payload"]["operationType"] for m in received] == [7, 255, 8]
    patches = [p for p in events_named(events, "CONVERSATION_LIST_UPDATED")]
    merged = apply_patches(old_list, patches)
    fresh_list, fresh_history = await system_state()
    [fresh_entry] = [c for c in fresh_list if c["conversationID"] == SYSTEM]
    keys = ("unreadCount", "lastMessage", "type")
    assert {k: merged[SYSTEM][k] for k in keys} == {k: fresh_entry[k] for k in keys}
    assert [m["ID"] for m in old_history + received] == [m["ID"] for m in fresh_history]
    assert [m["payload"] for m in old_history + received] == [m["payload"] for m in fresh_history]
