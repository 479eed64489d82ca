"""Group administration actions: profile, mute-all, roles, member mutes; user profiles.

Each is checked for what it writes, the tip it posts, who is told, and that every
refusal carries the SDK's code and leaves the database as it was.
"""

from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db.models import ProtectedError
from django.utils import timezone

from messaging import actions, rules, serialize
from messaging.errors import ChatError
from messaging.events import collect_events
from messaging.models import Conversation, Group, GroupMember, Message, Thread, User
from tests.chat_helpers import (
    assert_refused,
    conv,
    db_snapshot,
    fast_passwords,  # noqa: F401
    make_group,
    send_group_text,
    send_text,
    set_role,
)
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(django_capture_on_commit_callbacks):
    """``with published() as events:`` runs the commit callbacks at the end of the block
    and collects what was published: (event, data, user pks or ("thread", pk))."""

    @contextmanager
    def capture():
        events = []
        with collect_events() as collected:
            with django_capture_on_commit_callbacks(execute=True):
                yield events
        for message, targets in collected:
            events.append((message["event"], message["data"], targets))

    return capture


def tips(group_id="g1"):
    rows = Message.objects.filter(thread__key=f"group:{group_id}", type=rules.GROUP_TIP).order_by("seq")
    return [m.payload for m in rows]


def group(group_id="g1"):
    return Group.objects.get(group_id=group_id)


def member(user, group_id="g1"):
    return GroupMember.objects.get(group__group_id=group_id, user=user)


def pks(*users):
    return sorted(u.pk for u in users)


def refreshed_group_lists(events):
    return sorted(pk for event, _, targets in events if event == "GROUP_LIST_UPDATED" for pk in targets)


@pytest.fixture
def superuser(db):
    return actions.create_user("boss", password="pw-boss", nick="Boss", is_superuser=True)


# --- update_group_profile ------------------------------------------------------------------


def test_work_member_renames_the_group_with_one_tip_of_the_changed_fields(alice, bob, carol, published):
    make_group(alice, members=["bob", "carol"])
    with published() as events:
        actions.update_group_profile(bob, "g1", name="Renamed", introduction="", notification="Standup at 10")

    row = group()
    assert (row.name, row.introduction, row.notification) == ("Renamed", "", "Standup at 10")
    tip = tips()[-1]
    assert tip["operationType"] == rules.TIP_GROUP_PROFILE_UPDATED
    assert tip["operatorID"] == "bob"
    # introduction was "" already: only what changed is in newGroupProfile.
    assert tip["newGroupProfile"] == {"name": "Renamed", "notification": "Standup at 10"}
    assert rules.group_tip_text(tip) == "Bob renamed the group to “Renamed”"
    assert refreshed_group_lists(events) == pks(alice, bob, carol)
    assert row.member_count == 3


@pytest.mark.parametrize("role", ["Owner", "Admin"])
def test_owner_or_admin_of_a_public_group_updates_its_profile(alice, bob, role):
    make_group(alice, group_type="Public", members=["bob"])
    if role == "Admin":
        set_role("g1", bob, "Admin")
    operator = alice if role == "Owner" else bob

    actions.update_group_profile(operator, "g1", avatar="/static/g.png")

    assert group().avatar == "/static/g.png"
    assert tips()[-1]["newGroupProfile"] == {"avatar": "/static/g.png"}


@pytest.mark.parametrize("group_type", ["Public", "ChatRoom"])
def test_plain_member_of_a_public_or_meeting_group_may_not_update_the_profile_10007(alice, bob, group_type):
    make_group(alice, group_type=group_type, members=["bob"])
    assert_refused(10007, actions.update_group_profile, bob, "g1", name="Mine")


def test_non_member_may_not_update_the_profile_10007_but_the_app_admin_may(alice, carol, superuser):
    make_group(alice)
    assert_refused(10007, actions.update_group_profile, carol, "g1", name="Mine")

    actions.update_group_profile(superuser, "g1", notification="Read the rules", by_admin=True)

    assert group().notification == "Read the rules"
    assert (tips()[-1]["operatorID"], tips()[-1]["newGroupProfile"]) == ("boss", {"notification": "Read the rules"})
    assert not GroupMember.objects.filter(user=superuser).exists()


def test_unknown_group_is_10010(alice):
    assert_refused(10010, actions.update_group_profile, alice, "nope", name="x")


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"name": ""},
        {"name": "   "},
        {"name": "n" * 31},
        {"name": "群" * 11},  # 33 bytes
        {"name": None},
        {"introduction": "i" * 241},
        {"notification": "n" * 301},
        {"avatar": "/media/" + "a" * 94},
        {"avatar": 5},
        {"avatar": "https://tracker.example/pixel.gif"},
    ],
)
def test_bad_profile_fields_are_10004(alice, fields):
    make_group(alice)
    assert_refused(10004, actions.update_group_profile, alice, "g1", **fields)


def test_profile_fields_at_their_limits_are_accepted(alice):
    make_group(alice)
    actions.update_group_profile(
        alice, "g1", name="n" * 30, introduction="i" * 240, notification="n" * 300, avatar="/media/" + "a" * 93
    )
    assert len(group().notification) == 300


def test_an_unchanged_profile_writes_nothing_and_posts_no_tip(alice, bob, published):
    make_group(alice, members=["bob"], name="Team")
    before = db_snapshot()

    with published() as events:
        actions.update_group_profile(alice, "g1", name="Team", introduction="")

    assert db_snapshot() == before
    assert events == []


# --- set_mute_all ----------------------------------------------------------------------------


def test_owner_mutes_all_members_and_unmutes_them(alice, bob, published):
    make_group(alice, group_type="Public", members=["bob"])

    with published() as events:
        actions.set_mute_all(alice, "g1", True)

    assert group().mute_all is True
    assert tips()[-1]["newGroupProfile"] == {"muteAllMembers": True}
    assert rules.group_tip_text(tips()[-1]) == "Alice muted all members"
    assert refreshed_group_lists(events) == pks(alice, bob)
    with pytest.raises(ChatError) as info:
        send_group_text(bob, "g1", "hush")
    assert info.value.code == 10017

    actions.set_mute_all(alice, "g1", False)

    assert tips()[-1]["newGroupProfile"] == {"muteAllMembers": False}
    send_group_text(bob, "g1", "free")


def test_admin_may_mute_all(alice, bob, carol):
    make_group(alice, group_type="Public", members=["bob", "carol"])
    set_role("g1", bob, "Admin")
    actions.set_mute_all(bob, "g1", True)
    assert group().mute_all is True


def test_plain_member_may_not_mute_all_10007(alice, bob):
    make_group(alice, group_type="Private", members=["bob"])
    assert_refused(10007, actions.set_mute_all, bob, "g1", True)


@pytest.mark.parametrize("mute", [1, "true", None])
def test_mute_all_takes_a_boolean_10004(alice, mute):
    make_group(alice, group_type="Public")
    assert_refused(10004, actions.set_mute_all, alice, "g1", mute)


def test_mute_all_to_the_same_value_writes_nothing(alice, bob):
    make_group(alice, group_type="Public", members=["bob"])
    before = db_snapshot()
    actions.set_mute_all(alice, "g1", False)
    assert db_snapshot() == before


def test_app_admin_mutes_all_without_being_a_member(alice, superuser):
    make_group(alice, group_type="Public")
    actions.set_mute_all(superuser, "g1", True, by_admin=True)
    assert group().mute_all is True


# --- set_member_role ---------------------------------------------------------------------------


def test_owner_makes_a_member_admin_and_back_with_tips_4_and_5(alice, bob, published):
    make_group(alice, group_type="Public", members=["bob"])

    with published() as events:
        actions.set_member_role(alice, "g1", "bob", "Admin")

    assert member(bob).role == "Admin"
    tip = tips()[-1]
    assert (tip["operationType"], tip["operatorID"], tip["userIDList"]) == (4, "alice", ["bob"])
    assert rules.group_tip_text(tip) == "Alice made Bob admin"
    assert refreshed_group_lists(events) == pks(bob)

    actions.set_member_role(alice, "g1", "bob", "Member")

    assert member(bob).role == "Member"
    assert (tips()[-1]["operationType"], tips()[-1]["userIDList"]) == (5, ["bob"])


def test_an_admin_may_not_appoint_admins_10007(alice, bob, carol):
    make_group(alice, group_type="Public", members=["bob", "carol"])
    set_role("g1", bob, "Admin")
    assert_refused(10007, actions.set_member_role, bob, "g1", "carol", "Admin")
    assert_refused(10007, actions.set_member_role, carol, "g1", "bob", "Member")


def test_work_groups_have_no_admins_10007(alice, bob):
    make_group(alice, group_type="Private", members=["bob"])
    assert_refused(10007, actions.set_member_role, alice, "g1", "bob", "Admin")


def test_the_owners_role_cannot_change_10007(alice, bob, superuser):
    make_group(alice, group_type="Public", members=["bob"])
    assert_refused(10007, actions.set_member_role, alice, "g1", "alice", "Member")
    assert_refused(10007, actions.set_member_role, superuser, "g1", "alice", "Admin", by_admin=True)


@pytest.mark.parametrize("target", ["carol", "ghost", ""])
def test_role_of_a_non_member_is_2623_or_10004(alice, bob, carol, target):
    make_group(alice, group_type="Public", members=["bob"])
    assert_refused(2623 if target else 10004, actions.set_member_role, alice, "g1", target, "Admin")


@pytest.mark.parametrize("role", ["Owner", "admin", "", None])
def test_bad_role_is_10004(alice, bob, role):
    make_group(alice, group_type="Public", members=["bob"])
    assert_refused(10004, actions.set_member_role, alice, "g1", "bob", role)


def test_role_in_an_unknown_group_is_10010_and_by_a_non_member_10007(alice, bob, carol):
    make_group(alice, group_type="Public", members=["bob"])
    assert_refused(10010, actions.set_member_role, alice, "nope", "bob", "Admin")
    assert_refused(10007, actions.set_member_role, carol, "g1", "bob", "Admin")


def test_a_group_has_at_most_10_admins_10004(alice):
    names = [f"m{i:02d}" for i in range(11)]
    for name in names:
        make_user(name)
    make_group(alice, group_type="Public", members=names)
    for name in names[:10]:
        actions.set_member_role(alice, "g1", name, "Admin")

    error = assert_refused(10004, actions.set_member_role, alice, "g1", names[10], "Admin")
    assert "10 admins" in error.message


def test_setting_the_same_role_writes_nothing(alice, bob):
    make_group(alice, group_type="Public", members=["bob"])
    before = db_snapshot()
    actions.set_member_role(alice, "g1", "bob", "Member")
    assert db_snapshot() == before


# --- mute_member -------------------------------------------------------------------------------


def test_owner_mutes_a_member_with_tip_7_and_unmutes(alice, bob, published):
    make_group(alice, group_type="Public", members=["bob"])

    with published() as events:
        actions.mute_member(alice, "g1", "bob", 600)

    muted_until = member(bob).muted_until
    assert timedelta(seconds=598) < muted_until - timezone.now() <= timedelta(seconds=600)
    tip = tips()[-1]
    assert tip["operationType"] == rules.TIP_MEMBER_PROFILE_UPDATED
    assert tip["memberList"] == [{"userID": "bob", "nick": "Bob", "avatar": "", "muteTime": 600}]
    assert rules.group_tip_text(tip) == "Alice muted Bob for 10 minutes"
    assert refreshed_group_lists(events) == []
    with pytest.raises(ChatError) as info:
        send_group_text(bob, "g1", "hi")
    assert info.value.code == 10017

    actions.mute_member(alice, "g1", "bob", 0)

    assert member(bob).muted_until is None
    assert tips()[-1]["memberList"][0]["muteTime"] == 0
    assert rules.group_tip_text(tips()[-1]) == "Alice unmuted Bob"
    send_group_text(bob, "g1", "back")


def test_admin_mutes_an_ordinary_member_but_not_an_admin_or_the_owner_10007(alice, bob, carol, dave):
    make_group(alice, group_type="Public", members=["bob", "carol", "dave"])
    set_role("g1", bob, "Admin")
    set_role("g1", dave, "Admin")

    actions.mute_member(bob, "g1", "carol", 60)

    assert member(carol).muted_until is not None
    assert_refused(10007, actions.mute_member, bob, "g1", "dave", 60)
    assert_refused(10007, actions.mute_member, bob, "g1", "alice", 60)
    assert_refused(10007, actions.mute_member, bob, "g1", "bob", 60)


def test_owner_mutes_an_admin_but_nobody_mutes_the_owner_10007(alice, bob, superuser):
    make_group(alice, group_type="Public", members=["bob"])
    set_role("g1", bob, "Admin")

    actions.mute_member(alice, "g1", "bob", 60)

    assert member(bob).muted_until is not None
    assert_refused(10007, actions.mute_member, alice, "g1", "alice", 60)
    assert_refused(10007, actions.mute_member, superuser, "g1", "alice", 60, by_admin=True)


def test_plain_member_may_not_mute_10007(alice, bob, carol):
    make_group(alice, group_type="ChatRoom", members=["bob", "carol"])
    assert_refused(10007, actions.mute_member, bob, "g1", "carol", 60)


def test_work_group_members_cannot_be_muted_10007(alice, bob, superuser):
    make_group(alice, group_type="Private", members=["bob"])
    assert_refused(10007, actions.mute_member, alice, "g1", "bob", 60)
    assert_refused(10007, actions.mute_member, superuser, "g1", "bob", 60, by_admin=True)


@pytest.mark.parametrize("seconds", [-1, 1.5, True, "60", None, 2**32])
def test_bad_mute_time_is_10004(alice, bob, seconds):
    make_group(alice, group_type="Public", members=["bob"])
    assert_refused(10004, actions.mute_member, alice, "g1", "bob", seconds)


def test_mute_of_a_non_member_is_2623(alice, bob, carol):
    make_group(alice, group_type="Public", members=["bob"])
    assert_refused(2623, actions.mute_member, alice, "g1", "carol", 60)
    assert_refused(10010, actions.mute_member, alice, "nope", "bob", 60)


def test_unmuting_a_member_who_is_not_muted_writes_nothing(alice, bob):
    make_group(alice, group_type="Public", members=["bob"])
    before = db_snapshot()
    actions.mute_member(alice, "g1", "bob", 0)
    assert db_snapshot() == before


def test_app_admin_mutes_in_a_group_it_is_not_in(alice, bob, superuser):
    make_group(alice, group_type="Public", members=["bob"])
    actions.mute_member(superuser, "g1", "bob", 3600, by_admin=True)
    assert tips()[-1]["operatorID"] == "boss"
    assert member(bob).muted_until is not None


# --- users: create_user, update_user_profile ------------------------------------------------


def test_create_user_makes_a_user_that_can_log_in(db):
    user = actions.create_user("erin", password="secret-1", nick="Erin", avatar="/static/e.png")
    assert (user.username, user.nick, user.avatar, user.is_active) == ("erin", "Erin", "/static/e.png", True)
    assert user.check_password("secret-1")
    assert not actions.create_user("frank").has_usable_password()


@pytest.mark.parametrize(
    "username,fields",
    [
        ("", {}),
        ("a" * 33, {}),
        ("with space", {}),
        ("émile", {}),
        (None, {}),
        ("ok", {"avatar": 1}),
        ("ok", {"avatar": "http://x.example/a.png"}),
    ],
)
def test_create_user_with_bad_fields_is_10004(db, username, fields):
    assert_refused(10004, actions.create_user, username, **fields)


def test_create_user_with_a_long_nick_is_40601(db):
    assert_refused(40601, actions.create_user, "ok", nick="n" * 65)


def test_create_user_with_a_taken_id_is_10004(alice):
    assert_refused(10004, actions.create_user, "alice")


def test_profile_update_reaches_peers_co_members_and_own_tabs_only(alice, bob, carol, dave, published):
    send_text(bob, "alice", "hi")  # bob has a C2C conversation with alice
    make_group(carol, group_type="Public", group_id="g1", members=["alice"])  # carol shares a group
    make_user("erin")  # erin knows nothing of alice

    with published() as events:
        actions.update_user_profile(alice, nick="Ally", avatar="/static/a.png")

    profile = {"userID": "alice", "nick": "Ally", "avatar": "/static/a.png"}
    assert User.objects.values("nick", "avatar").get(pk=alice.pk) == {"nick": "Ally", "avatar": "/static/a.png"}
    by_event = {event: (data, sorted(targets)) for event, data, targets in events}
    assert by_event["PROFILE_UPDATED"] == ([serialize.profile(User.objects.get(pk=alice.pk))], pks(alice, bob, carol))
    assert by_event["PROFILE_UPDATED"][0][0].items() >= profile.items()
    assert by_event["CONVERSATION_LIST_UPDATED"] == ([{"conversationID": "C2Calice", "userProfile": profile}], pks(bob))
    assert set(by_event) == {"PROFILE_UPDATED", "CONVERSATION_LIST_UPDATED"}


@pytest.mark.parametrize("n", [1, 6])
def test_profile_update_audience_is_found_in_a_fixed_number_of_queries(alice, django_assert_num_queries, n):
    """Lock the row, UPDATE it, one UNION for who sees the profile; plus the SAVEPOINT
    and RELEASE of its transaction inside the test's."""
    for i in range(n):
        peer = make_user(f"p{i}")
        send_text(peer, "alice", "hi")
        make_group(alice, group_type="Public", group_id=f"g{i}", members=[peer.username])
    with django_assert_num_queries(5):
        actions.update_user_profile(alice, nick="Ally")


@pytest.mark.parametrize("fields", [{"nick": None}, {"avatar": 3}, {"avatar": "a" * 10}, {"avatar": "//evil.example/a.png"}])
def test_bad_profile_is_10004(alice, fields):
    assert_refused(10004, actions.update_user_profile, alice, **fields)


@pytest.mark.parametrize("fields", [{"nick": "n" * 65}, {"avatar": "/media/" + "a" * 494}])
def test_too_long_profile_is_40601(alice, fields):
    assert_refused(40601, actions.update_user_profile, alice, **fields)


def test_profile_at_its_limits_is_accepted(alice):
    actions.update_user_profile(alice, nick="n" * 64, avatar="/media/" + "a" * 493)
    assert len(User.objects.get(pk=alice.pk).avatar) == 500


def test_unchanged_profile_writes_and_publishes_nothing(alice, bob, published):
    send_text(bob, "alice", "hi")
    before = db_snapshot()
    with published() as events:
        actions.update_user_profile(alice, nick="Alice")
    assert db_snapshot() == before
    assert events == []


# --- deleting a user row keeps everyone else's history -----------------------------------------


def test_deleting_a_user_row_keeps_the_other_partys_thread_messages_and_conversation(alice, bob):
    send_text(alice, "bob", "one")
    send_text(bob, "alice", "two")
    thread_id = conv(alice, "C2Cbob").thread_id

    User.objects.filter(pk=bob.pk).delete()  # e.g. from manage.py shell; the admin refuses it

    assert Thread.objects.filter(pk=thread_id).exists()
    assert list(Message.objects.filter(thread_id=thread_id).order_by("seq").values_list("seq", "payload")) == [
        (1, {"text": "one"}),
        (2, {"text": "two"}),
    ]
    row = conv(alice, "C2Cbob")
    assert (row.thread_id, row.peer_id, row.last_message.payload) == (thread_id, None, {"text": "two"})
    assert not Conversation.objects.filter(user_id=bob.pk).exists()


def test_deleting_a_user_who_is_still_a_group_member_is_refused(alice, bob):
    make_group(alice, group_type="Public", members=["bob"])
    with pytest.raises(ProtectedError):
        User.objects.filter(pk=bob.pk).delete()
    assert group().member_count == 2


# --- change_group_owner, dismiss_group -------------------------------------------------------


def test_the_app_admin_gives_an_ownerless_work_group_an_owner(alice, bob, superuser, published):
    make_group(alice, group_type="Private", members=["bob"])
    actions.quit_group(alice, "g1")
    assert_refused(10007, actions.change_group_owner, bob, "g1", "bob")

    with published() as events:
        actions.change_group_owner(superuser, "g1", "bob", by_admin=True)

    assert group().owner == bob and member(bob).role == "Owner"
    assert tips()[-1]["newGroupProfile"] == {"ownerID": "bob"}
    assert rules.group_tip_text(tips()[-1]) == "Boss made Bob the group owner"
    assert refreshed_group_lists(events) == pks(bob)


def test_the_app_admin_dismisses_a_work_group_without_being_a_member(alice, bob, superuser):
    make_group(alice, group_type="Private", members=["bob"])
    assert_refused(2622, actions.dismiss_group, alice, "g1")

    actions.dismiss_group(superuser, "g1", by_admin=True)

    assert group().dismissed_at is not None and group().member_count == 0
    assert not GroupMember.objects.filter(group__group_id="g1").exists()
    assert Conversation.objects.filter(conversation_id="GROUPg1").count() == 2
    assert_refused(10010, actions.add_members, alice, "g1", ["carol"])
    assert_refused(10010, send_group_text, bob, "g1", "still here?")
