"""groupCustomField (updateGroupProfile) and setGroupMemberCustomField over the socket
(docs/PROTOCOL.md §5.25, §5.33): limits from TIM.md 6.3, who may set whose fields, the
tips every member's tab receives, and the events applied to old state equal a fresh
fetch."""

import pytest
from channels.db import database_sync_to_async

from messaging import actions, rules
from tests.chat_helpers import fast_passwords, make_group, set_role  # noqa: F401
from tests.test_group_admin_events import state, verify
from tests.test_group_admin_protocol import refused, tips

pytestmark = pytest.mark.django_db(transaction=True)


def arrange(owner):
    """A Public group g1 of ``owner`` with bob (admin) and carol."""

    def run():
        group = make_group(owner, group_type="Public", members=["bob", "carol"])
        set_role("g1", group.owner.__class__.objects.get(username="bob"), "Admin")

    return database_sync_to_async(run)()


def fields(**values):
    return [{"key": key, "value": value} for key, value in values.items()]


async def test_group_custom_fields_are_merged_removed_and_reach_every_member(open_tab, alice, bob, carol, dave):
    await arrange(alice)
    a, c, d = await open_tab(alice), await open_tab(carol), await open_tab(dave)

    reply = await a.request("updateGroupProfile", groupID="g1", groupCustomField=fields(level="3", topic="launch"))
    assert reply["group"]["groupCustomField"] == fields(level="3", topic="launch")
    reply = await a.request("updateGroupProfile", groupID="g1", groupCustomField=fields(level="4", topic=""))
    assert reply["group"]["groupCustomField"] == fields(level="4")

    events = await c.drain(settle=0.3)
    assert [tip["newGroupProfile"] for tip in tips(events)] == [
        {"groupCustomField": fields(level="3", topic="launch")},
        {"groupCustomField": fields(level="4", topic="")},
    ]
    group = (await c.request("getGroupProfile", groupID="g1"))["group"]
    assert group["groupCustomField"] == fields(level="4")
    assert await d.drain() == []
    # Setting what is already there changes nothing and posts no tip.
    await a.request("updateGroupProfile", groupID="g1", groupCustomField=fields(level="4", gone=""))
    assert tips(await c.drain(settle=0.3)) == []


async def test_a_group_keeps_at_most_ten_custom_fields(open_tab, alice, bob, carol):
    await arrange(alice)
    a = await open_tab(alice)
    ten = [{"key": f"k{i}", "value": "v"} for i in range(10)]
    await a.request("updateGroupProfile", groupID="g1", groupCustomField=ten)

    await refused(a, 10004, "updateGroupProfile", groupID="g1", groupCustomField=fields(k10="v"))
    # Removing one makes room, in the same call.
    reply = await a.request("updateGroupProfile", groupID="g1", groupCustomField=fields(k0="", k10="v"))
    assert len(reply["group"]["groupCustomField"]) == 10


async def test_only_the_owner_and_admins_set_a_public_groups_custom_fields(open_tab, alice, bob, carol, dave):
    await arrange(alice)
    b, c, d = await open_tab(bob), await open_tab(carol), await open_tab(dave)

    assert (await b.request("updateGroupProfile", groupID="g1", groupCustomField=fields(x="1")))["group"]["groupCustomField"]
    await refused(c, 10007, "updateGroupProfile", groupID="g1", groupCustomField=fields(x="2"))
    await refused(d, 10007, "updateGroupProfile", groupID="g1", groupCustomField=fields(x="2"))


async def test_member_custom_fields_each_their_own_and_the_owner_or_admin_others(open_tab, alice, bob, carol, dave):
    await arrange(alice)
    a, b, c, d = await open_tab(alice), await open_tab(bob), await open_tab(carol), await open_tab(dave)

    own = await c.request("setGroupMemberCustomField", groupID="g1", memberCustomField=fields(team="blue"))
    assert own["member"]["userID"] == "carol"
    assert own["member"]["memberCustomField"] == fields(team="blue")
    by_admin = await b.request("setGroupMemberCustomField", groupID="g1", userID="carol", memberCustomField=fields(desk="4"))
    assert by_admin["member"]["memberCustomField"] == fields(desk="4", team="blue")
    assert (await a.request("setGroupMemberCustomField", groupID="g1", userID="bob", memberCustomField=fields(x="1")))["member"]
    # An admin may not set the owner's or another admin's; a member nobody else's.
    await refused(b, 10007, "setGroupMemberCustomField", groupID="g1", userID="alice", memberCustomField=fields(x="1"))
    await refused(c, 10007, "setGroupMemberCustomField", groupID="g1", userID="bob", memberCustomField=fields(x="1"))
    await refused(d, 10007, "setGroupMemberCustomField", groupID="g1", memberCustomField=fields(x="1"))
    await refused(a, 2623, "setGroupMemberCustomField", groupID="g1", userID="dave", memberCustomField=fields(x="1"))
    await refused(a, 10010, "setGroupMemberCustomField", groupID="nope", memberCustomField=fields(x="1"))

    [tip, _, _] = tips(await a.drain(settle=0.3))
    assert tip["operationType"] == rules.TIP_MEMBER_PROFILE_UPDATED
    assert tip["memberList"] == [{"userID": "carol", "nick": "Carol", "avatar": "", "memberCustomField": fields(team="blue")}]
    [carol_entry] = (await a.request("getGroupMemberProfile", groupID="g1", userIDList=["carol"]))["memberList"]
    assert carol_entry["memberCustomField"] == fields(desk="4", team="blue")


@pytest.mark.parametrize(
    "args",
    [
        {"memberCustomField": []},
        {"memberCustomField": fields(a="1", b="2", c="3", d="4", e="5", f="6")},
        {"memberCustomField": fields(team="v" * 65)},
        {"memberCustomField": [{"key": "", "value": "v"}]},
        {"memberCustomField": [{"key": "k"}]},
        {},
    ],
)
async def test_bad_member_custom_fields_are_refused_and_store_nothing(open_tab, alice, bob, carol, args):
    await arrange(alice)
    c = await open_tab(carol)
    await refused(c, 10004, "setGroupMemberCustomField", groupID="g1", **args)


async def test_a_member_keeps_at_most_five_custom_fields(open_tab, alice, bob, carol):
    await arrange(alice)
    c = await open_tab(carol)
    await c.request("setGroupMemberCustomField", groupID="g1", memberCustomField=fields(a="1", b="2", c="3", d="4", e="5"))
    await refused(c, 10004, "setGroupMemberCustomField", groupID="g1", memberCustomField=fields(f="6"))


async def test_custom_field_events_applied_to_old_state_equal_a_refetch(open_tab, alice, bob, carol):
    await arrange(alice)
    c = await open_tab(carol)
    old = await state(c)

    await database_sync_to_async(actions.update_group_profile)(alice, "g1", custom_fields=fields(level="2"))
    await database_sync_to_async(actions.set_member_custom_fields)(bob, "g1", "carol", fields(team="red", desk="9"))
    await database_sync_to_async(actions.set_member_custom_fields)(carol, "g1", None, fields(team=""))

    await verify(c, old)
