"""Group actions: create, join, quit, add and delete members, tips and visibility."""

import pytest

from messaging import actions
from messaging.errors import ChatError
from messaging.models import Group, GroupMember, Message
from messaging.queries.message_list import get_message_list
from tests.chat_helpers import (
    assert_refused,
    conv,
    conv_or_none,
    db_snapshot,
    fast_passwords,  # noqa: F401
    make_group,
    send_group_text,
    set_role,
)

pytestmark = pytest.mark.django_db


def members(group_id):
    return dict(GroupMember.objects.filter(group__group_id=group_id).values_list("user__username", "role"))


def tips(group_id):
    """Payloads of the group's tips, oldest first."""
    rows = Message.objects.filter(thread__key=f"group:{group_id}", type="TIMGroupTipElem").order_by("seq")
    return [m.payload for m in rows]


def last_tip(group_id):
    return tips(group_id)[-1]


def member_count(group_id):
    return Group.objects.get(group_id=group_id).member_count


# --- create ---------------------------------------------------------------------------


@pytest.mark.parametrize("group_type", ["Private", "Public", "ChatRoom"])
def test_create_group_of_each_type(alice, bob, group_type):
    group = make_group(alice, group_type=group_type, members=["bob"])

    assert (group.type, group.owner, group.group_id) == (group_type, alice, "g1")
    assert members("g1") == {"alice": "Owner", "bob": "Member"}
    assert member_count("g1") == 2
    assert conv(alice, "GROUPg1").group == group
    assert conv(bob, "GROUPg1").group == group


def test_work_group_is_invite_only_and_others_are_free_access(alice):
    assert make_group(alice, group_type="Private", group_id="w").join_option == "DisableApply"
    assert make_group(alice, group_type="Public", group_id="p").join_option == "FreeAccess"
    assert make_group(alice, group_type="ChatRoom", group_id="m").join_option == "FreeAccess"


def test_create_group_posts_one_join_tip_for_the_invited_members(alice, bob, carol):
    make_group(alice, members=["bob", "carol"])

    [tip] = tips("g1")
    assert tip["operationType"] == 1
    assert tip["operatorID"] == "alice"
    assert tip["userIDList"] == ["bob", "carol"]
    assert tip["groupJoinType"] == 2


def test_create_group_alone_posts_the_owners_join_tip(alice):
    make_group(alice, members=[])

    [tip] = tips("g1")
    assert (tip["operatorID"], tip["userIDList"], tip["groupJoinType"]) == ("alice", ["alice"], 1)


def test_create_group_without_an_id_makes_one(alice):
    group = actions.create_group(alice, group_type="Public", name="Open")
    assert group.group_id.startswith("@TGS#") and len(group.group_id) > 5


def test_owner_listed_as_member_is_added_once(alice, bob):
    make_group(alice, members=["alice", "bob"])
    assert members("g1") == {"alice": "Owner", "bob": "Member"}
    assert member_count("g1") == 2


@pytest.mark.parametrize("group_type", ["AVChatRoom", "Community", "Work", "", None])
def test_create_group_with_a_bad_type_is_2600(alice, group_type):
    assert_refused(2600, actions.create_group, alice, group_type=group_type, name="x", group_id="g1")


def test_create_group_with_a_used_id_is_10021(alice, bob):
    make_group(alice)
    assert_refused(10021, make_group, bob, group_type="Public")


def test_create_group_with_an_unknown_member_is_10019_and_creates_nothing(alice, bob):
    assert_refused(10019, make_group, alice, members=["bob", "ghost"])
    assert not Group.objects.exists()


@pytest.mark.parametrize("group_id", ["@TGS#mine", "has space", "x" * 48])
def test_create_group_with_an_invalid_id_is_2602(alice, group_id):
    assert_refused(2602, make_group, alice, group_id=group_id)


@pytest.mark.parametrize("name", ["", "   ", "n" * 31])
def test_create_group_with_a_bad_name_is_10004(alice, name):
    assert_refused(10004, make_group, alice, name=name)


# --- join -----------------------------------------------------------------------------


def test_join_work_group_is_2601(alice, bob):
    make_group(alice, group_type="Private")
    assert_refused(2601, actions.join_group, bob, "g1")


@pytest.mark.parametrize("group_type", ["Public", "ChatRoom"])
def test_join_public_or_meeting_group(alice, bob, group_type):
    make_group(alice, group_type=group_type)

    status, group = actions.join_group(bob, "g1")

    assert (status, group.group_id) == ("JoinedSuccess", "g1")
    assert members("g1") == {"alice": "Owner", "bob": "Member"}
    assert member_count("g1") == 2
    assert conv(bob, "GROUPg1").unread_count == 0
    tip = last_tip("g1")
    assert (tip["operationType"], tip["operatorID"], tip["userIDList"], tip["groupJoinType"]) == (1, "bob", ["bob"], 1)


def test_join_when_already_a_member_is_already_in_group(alice, bob):
    make_group(alice, group_type="Public", members=["bob"])
    before = db_snapshot()

    status, _ = actions.join_group(bob, "g1")

    assert status == "AlreadyInGroup"
    assert db_snapshot() == before


def test_join_unknown_group_is_10010(bob):
    assert_refused(10010, actions.join_group, bob, "nope")


# --- quit -----------------------------------------------------------------------------


def test_member_quits(alice, bob, carol):
    make_group(alice, group_type="Public", members=["bob", "carol"])

    actions.quit_group(bob, "g1")

    assert members("g1") == {"alice": "Owner", "carol": "Member"}
    assert member_count("g1") == 2
    tip = last_tip("g1")
    assert (tip["operationType"], tip["operatorID"], tip["userIDList"]) == (2, "bob", ["bob"])


@pytest.mark.parametrize("group_type", ["Public", "ChatRoom"])
def test_owner_of_public_or_meeting_group_may_not_quit_10009(alice, bob, group_type):
    make_group(alice, group_type=group_type, members=["bob"])
    assert_refused(10009, actions.quit_group, alice, "g1")


def test_work_group_owner_may_quit_and_the_group_has_no_owner(alice, bob):
    make_group(alice, group_type="Private", members=["bob"])

    actions.quit_group(alice, "g1")

    assert Group.objects.get(group_id="g1").owner is None
    assert members("g1") == {"bob": "Member"}
    assert conv_or_none(alice, "GROUPg1") is None


def test_quit_by_a_non_member_is_10007(alice, bob):
    make_group(alice, group_type="Public")
    assert_refused(10007, actions.quit_group, bob, "g1")


# --- add members ----------------------------------------------------------------------


def test_any_member_of_a_work_group_may_add(alice, bob, carol):
    make_group(alice, group_type="Private", members=["bob"])

    result = actions.add_members(bob, "g1", ["carol"])

    assert result["successUserIDList"] == ["carol"]
    assert members("g1")["carol"] == "Member"
    assert member_count("g1") == 3
    tip = last_tip("g1")
    assert (tip["operationType"], tip["operatorID"], tip["userIDList"], tip["groupJoinType"]) == (1, "bob", ["carol"], 2)


def test_plain_member_of_a_public_group_may_not_add_10007(alice, bob, carol):
    make_group(alice, group_type="Public", members=["bob"])
    assert_refused(10007, actions.add_members, bob, "g1", ["carol"])


@pytest.mark.parametrize("role", ["Owner", "Admin"])
def test_owner_or_admin_of_a_public_group_may_add(alice, bob, carol, role):
    make_group(alice, group_type="Public", members=["bob"])
    operator = alice if role == "Owner" else bob
    set_role("g1", bob, "Admin")

    result = actions.add_members(operator, "g1", ["carol"])

    assert result["successUserIDList"] == ["carol"]
    assert "carol" in members("g1")


def test_add_lists_unknown_users_as_failures_and_members_as_existing(alice, bob, carol):
    make_group(alice, members=["bob"])

    result = actions.add_members(alice, "g1", ["bob", "ghost", "carol"])

    assert result["successUserIDList"] == ["carol"]
    assert result["failureUserIDList"] == ["ghost"]
    assert result["existedUserIDList"] == ["bob"]
    assert member_count("g1") == 3
    assert last_tip("g1")["userIDList"] == ["carol"]


def test_add_of_only_existing_members_writes_nothing(alice, bob):
    make_group(alice, members=["bob"])
    before = db_snapshot()

    result = actions.add_members(alice, "g1", ["bob"])

    assert (result["successUserIDList"], result["existedUserIDList"]) == ([], ["bob"])
    assert db_snapshot() == before


def test_add_by_a_non_member_is_10007(alice, bob, carol):
    make_group(alice)
    assert_refused(10007, actions.add_members, bob, "g1", ["carol"])


@pytest.mark.parametrize("user_ids", [[], "carol", [1], None])
def test_add_with_a_bad_user_list_is_10004(alice, carol, user_ids):
    make_group(alice)
    assert_refused(10004, actions.add_members, alice, "g1", user_ids)


# --- delete members -------------------------------------------------------------------


def test_work_owner_removes_a_member(alice, bob, carol):
    make_group(alice, group_type="Private", members=["bob", "carol"])

    result = actions.delete_members(alice, "g1", ["bob"])

    assert result["userIDList"] == ["bob"]
    assert members("g1") == {"alice": "Owner", "carol": "Member"}
    assert member_count("g1") == 2
    tip = last_tip("g1")
    assert (tip["operationType"], tip["operatorID"], tip["userIDList"]) == (3, "alice", ["bob"])


def test_work_member_may_not_remove_10007(alice, bob, carol):
    make_group(alice, group_type="Private", members=["bob", "carol"])
    assert_refused(10007, actions.delete_members, bob, "g1", ["carol"])


def test_public_admin_removes_a_plain_member(alice, bob, carol):
    make_group(alice, group_type="Public", members=["bob", "carol"])
    set_role("g1", bob, "Admin")

    actions.delete_members(bob, "g1", ["carol"])

    assert "carol" not in members("g1")


@pytest.mark.parametrize("target", ["alice", "dave"])
def test_public_admin_may_not_remove_the_owner_or_an_admin_10007(alice, bob, carol, dave, target):
    make_group(alice, group_type="Public", members=["bob", "carol", "dave"])
    set_role("g1", bob, "Admin")
    set_role("g1", dave, "Admin")
    assert_refused(10007, actions.delete_members, bob, "g1", [target])


def test_delete_members_is_all_or_nothing(alice, bob, carol, dave):
    make_group(alice, group_type="Public", members=["bob", "carol", "dave"])
    set_role("g1", bob, "Admin")
    set_role("g1", dave, "Admin")

    assert_refused(10007, actions.delete_members, bob, "g1", ["carol", "dave"])
    assert set(members("g1")) == {"alice", "bob", "carol", "dave"}


def test_public_plain_member_may_not_remove_10007(alice, bob, carol):
    make_group(alice, group_type="Public", members=["bob", "carol"])
    assert_refused(10007, actions.delete_members, bob, "g1", ["carol"])


def test_owner_removes_several_members_with_one_tip(alice, bob, carol, dave):
    make_group(alice, group_type="Public", members=["bob", "carol", "dave"])
    tips_before = len(tips("g1"))

    actions.delete_members(alice, "g1", ["bob", "carol"])

    assert members("g1") == {"alice": "Owner", "dave": "Member"}
    assert len(tips("g1")) == tips_before + 1
    assert sorted(last_tip("g1")["userIDList"]) == ["bob", "carol"]


def test_removing_yourself_is_10007(alice, bob):
    make_group(alice, group_type="Public", members=["bob"])
    assert_refused(10007, actions.delete_members, alice, "g1", ["alice"])


# --- each membership change: exactly one tip ---------------------------------------------


def test_each_membership_change_posts_exactly_one_tip(alice, bob, carol, dave):
    make_group(alice, group_type="Public", members=["bob"])
    actions.join_group(carol, "g1")
    actions.add_members(alice, "g1", ["dave"])
    actions.quit_group(carol, "g1")
    actions.delete_members(alice, "g1", ["dave"])

    assert [(t["operationType"], t["operatorID"], t["userIDList"]) for t in tips("g1")] == [
        (1, "alice", ["bob"]),
        (1, "carol", ["carol"]),
        (1, "alice", ["dave"]),
        (2, "carol", ["carol"]),
        (3, "alice", ["dave"]),
    ]


# --- ex-members and history --------------------------------------------------------------


def test_ex_member_loses_the_conversation_and_cannot_read(alice, bob):
    make_group(alice, group_type="Public", members=["bob"])
    send_group_text(alice, "g1", "before you left")

    actions.quit_group(bob, "g1")

    assert conv_or_none(bob, "GROUPg1") is None
    with pytest.raises(ChatError) as info:
        get_message_list(bob, "GROUPg1")
    assert info.value.code == 10007


def test_removed_member_loses_the_conversation_and_cannot_read(alice, bob):
    make_group(alice, group_type="Private", members=["bob"])

    actions.delete_members(alice, "g1", ["bob"])

    assert conv_or_none(bob, "GROUPg1") is None
    with pytest.raises(ChatError) as info:
        get_message_list(bob, "GROUPg1")
    assert info.value.code == 10007


def history_texts(user, group_id="g1"):
    listed = get_message_list(user, f"GROUP{group_id}")["messageList"]
    return [m["payload"].get("text") or f"tip{m['payload']['operationType']}" for m in listed]


@pytest.mark.parametrize("group_type", ["Private", "Public"])
def test_pre_join_history_is_hidden_in_work_and_public_groups(alice, bob, carol, group_type):
    make_group(alice, group_type=group_type, members=["bob"])
    send_group_text(alice, "g1", "secret")

    actions.add_members(alice, "g1", ["carol"])
    send_group_text(bob, "g1", "welcome")

    assert history_texts(carol) == ["tip1", "welcome"]
    assert history_texts(bob) == ["tip1", "secret", "tip1", "welcome"]


def test_pre_join_history_is_visible_in_meeting_groups(alice, bob):
    make_group(alice, group_type="ChatRoom")
    send_group_text(alice, "g1", "earlier")

    actions.join_group(bob, "g1")

    assert history_texts(bob) == ["tip1", "earlier", "tip1"]


def test_rejoining_a_public_group_hides_what_was_said_while_away(alice, bob):
    make_group(alice, group_type="Public", members=["bob"])
    actions.quit_group(bob, "g1")
    send_group_text(alice, "g1", "while away")

    actions.join_group(bob, "g1")

    assert "while away" not in history_texts(bob)
    assert conv(bob, "GROUPg1").unread_count == 0


def test_removing_a_non_member_changes_nothing(alice, bob, carol):
    make_group(alice, group_type="Public", members=["bob"])
    before = db_snapshot()

    result = actions.delete_members(alice, "g1", ["carol"])

    assert result["userIDList"] == []
    assert db_snapshot() == before


def test_the_app_admin_adds_and_removes_members_of_any_group_without_being_one(alice, bob, carol, dave):
    make_group(alice, group_type="Private", members=["bob"])
    assert_refused(10007, actions.add_members, dave, "g1", ["carol"])
    assert actions.add_members(dave, "g1", ["carol"], by_admin=True)["successUserIDList"] == ["carol"]
    assert_refused(10007, actions.delete_members, dave, "g1", ["bob"])
    assert actions.delete_members(dave, "g1", ["bob", "carol"], by_admin=True)["userIDList"] == ["bob", "carol"]
    assert members("g1") == {"alice": "Owner"}
    tips = Message.objects.filter(thread__group__group_id="g1", type="TIMGroupTipElem").order_by("seq")
    assert [(t.payload["operationType"], t.payload["operatorID"]) for t in tips][-2:] == [(1, "dave"), (3, "dave")]
    # Not even the app admin removes the owner.
    assert_refused(10007, actions.delete_members, dave, "g1", ["alice"], by_admin=True)
