"""revoke_message: who may recall what and when, what a recalled message shows, and the
counts and mentions it takes back (docs/PROTOCOL.md §5.20)."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from messaging import actions, rules
from messaging.access import access_upload_for_download
from messaging.errors import ErrorCode
from messaging.models import GroupAtMention, Message
from messaging.queries import conversation_list, message_list
from tests.chat_helpers import (
    assert_refused,
    conv,
    fast_passwords,  # noqa: F401
    make_group,
    send_group_text,
    send_text,
    set_role,
)
from tests.media_helpers import upload, use_filesystem_storage

pytestmark = pytest.mark.django_db


def revoke(user, conversation_id, message, **kwargs):
    return actions.revoke_message(user, conversation_id, message.msg_id, **kwargs)


def later(seconds):
    """Patch the clock of the revoke action ``seconds`` into the future."""
    return mock.patch("messaging.actions.message_revoke.timezone.now", return_value=timezone.now() + timedelta(seconds=seconds))


def history(user, conversation_id):
    return message_list.get_message_list(user, conversation_id)["messageList"]


def conversation(user, conversation_id):
    return next(c for c in conversation_list.get_conversation_list(user) if c["conversationID"] == conversation_id)


# --- who may recall ------------------------------------------------------------------------


def test_the_sender_recalls_a_c2c_message_and_everyone_sees_it_recalled(alice, bob):
    message = send_text(alice, "bob", "oops", cloud_custom_data="quote")

    revoked = revoke(alice, "C2Cbob", message)

    expected = {
        "isRevoked": True,
        "revoker": "alice",
        "revokerInfo": {"userID": "alice", "nick": "Alice", "avatar": ""},
        "payload": {},
        "cloudCustomData": "",
        "atUserList": [],
        "messageForShow": "Alice recalled a message",
    }
    assert {k: revoked.data[k] for k in expected} == expected
    for user, conversation_id in ((alice, "C2Cbob"), (bob, "C2Calice")):
        [shown] = history(user, conversation_id)
        assert {k: shown[k] for k in expected} == expected
        last = conversation(user, conversation_id)["lastMessage"]
        assert (last["isRevoked"], last["revoker"], last["payload"], last["messageForShow"]) == (
            True,
            "alice",
            {},
            "Alice recalled a message",
        )
        assert "oops" not in str(conversation(user, conversation_id)) + str(shown)
    stored = Message.objects.get(pk=message.pk)
    assert (stored.is_revoked, stored.revoker_id, stored.payload) == (True, alice.pk, {"text": "oops"}), "content kept"
    assert stored.revoked_at is not None


def test_the_wording_is_written_once_in_rules_and_sent_in_hello():
    assert rules.revoked_text("Alice") == "Alice recalled a message"
    assert rules.client_rules()["revoke"] == {"template": "{revoker} recalled a message", "window": 120}


def test_someone_elses_c2c_message_is_refused_with_10007(alice, bob):
    message = send_text(alice, "bob", "mine")
    assert_refused(ErrorCode.PERMISSION_DENIED, revoke, bob, "C2Calice", message)


def test_after_the_window_the_sender_gets_20016_in_c2c_and_10031_in_a_group(alice, bob):
    c2c = send_text(alice, "bob", "late")
    make_group(alice, group_type="Public", members=["bob"])
    own_group = send_group_text(bob, "g1", "late too")
    with later(121):
        assert_refused(ErrorCode.C2C_REVOKE_WINDOW_PASSED, revoke, alice, "C2Cbob", c2c)
        assert_refused(ErrorCode.GROUP_REVOKE_WINDOW_PASSED, revoke, bob, "GROUPg1", own_group)
    with later(119):
        assert revoke(alice, "C2Cbob", c2c).message.is_revoked


def test_the_window_is_the_revoke_window_setting(settings, alice, bob):
    settings.CHAT = {"REVOKE_WINDOW": 5}
    message = send_text(alice, "bob", "quick")
    with later(6):
        assert_refused(ErrorCode.C2C_REVOKE_WINDOW_PASSED, revoke, alice, "C2Cbob", message)


def test_owner_and_admins_recall_members_messages_at_any_time(alice, bob, carol, dave):
    make_group(alice, group_type="Public", members=["bob", "carol", "dave"])
    set_role("g1", bob, "Admin")
    by_carol = send_group_text(carol, "g1", "spam")
    by_dave = send_group_text(dave, "g1", "more spam")
    with later(3600):
        assert revoke(bob, "GROUPg1", by_carol).data["revoker"] == "bob"
        assert revoke(alice, "GROUPg1", by_dave).data["messageForShow"] == "Alice recalled a message"


def test_an_admin_may_not_recall_the_owners_or_another_admins_message_and_a_member_nobodys(alice, bob, carol, dave):
    make_group(alice, group_type="Public", members=["bob", "carol", "dave"])
    set_role("g1", bob, "Admin")
    set_role("g1", carol, "Admin")
    by_owner = send_group_text(alice, "g1", "owner")
    by_admin = send_group_text(carol, "g1", "admin")
    by_member = send_group_text(dave, "g1", "member")
    assert_refused(ErrorCode.PERMISSION_DENIED, revoke, bob, "GROUPg1", by_owner)
    assert_refused(ErrorCode.PERMISSION_DENIED, revoke, bob, "GROUPg1", by_admin)
    assert_refused(ErrorCode.PERMISSION_DENIED, revoke, dave, "GROUPg1", by_admin)
    set_role("g1", carol, "Member")
    assert_refused(ErrorCode.PERMISSION_DENIED, revoke, carol, "GROUPg1", by_member)
    # The owner may recall an admin's message.
    assert revoke(alice, "GROUPg1", by_admin).message.is_revoked


def test_the_app_admin_recalls_any_group_message_without_being_a_member(alice, bob, carol):
    make_group(alice, group_type="Public", members=["bob"])
    message = send_group_text(alice, "g1", "owner's")
    assert_refused(ErrorCode.PERMISSION_DENIED, revoke, carol, "GROUPg1", message)
    with later(3600):
        assert revoke(carol, "GROUPg1", message, by_admin=True).data["revoker"] == "carol"


def test_the_app_admin_recalls_a_c2c_message_of_two_others_at_any_age_from_either_side(alice, bob, carol):
    first, second = send_text(alice, "bob", "one"), send_text(bob, "alice", "two")
    with later(3600):
        assert_refused(ErrorCode.C2C_REVOKE_WINDOW_PASSED, revoke, alice, "C2Cbob", first)
        recalled = revoke(carol, "C2Cbob", first, by_admin=True, viewer=alice)
        assert (recalled.data["revoker"], recalled.data["from"], recalled.data["to"]) == ("carol", "alice", "bob")
        assert revoke(carol, "C2Calice", second, by_admin=True, viewer=bob).data["to"] == "alice"
    assert Message.objects.get(pk=first.pk).is_revoked and Message.objects.get(pk=second.pk).is_revoked
    assert_refused(ErrorCode.MESSAGE_NOT_FOUND, revoke, carol, "C2Cdave", first, by_admin=True, viewer=alice)


def test_only_the_app_admin_names_whose_conversation_it_is(alice, bob, carol):
    message = send_text(alice, "bob")
    with pytest.raises(ValueError):
        revoke(carol, "C2Cbob", message, viewer=alice)
    assert not Message.objects.get(pk=message.pk).is_revoked


def test_group_tips_unknown_and_invisible_messages_are_refused(alice, bob, carol):
    make_group(alice, group_type="Public", members=["bob"])
    tip = Message.objects.filter(type=rules.GROUP_TIP).first()
    assert_refused(ErrorCode.MESSAGE_NOT_REVOCABLE, revoke, alice, "GROUPg1", tip)
    assert_refused(ErrorCode.MESSAGE_NOT_FOUND, actions.revoke_message, alice, "GROUPg1", "nope")
    c2c = send_text(alice, "bob", "private")
    assert_refused(ErrorCode.MESSAGE_NOT_FOUND, revoke, carol, "C2Calice", c2c)
    assert_refused(ErrorCode.PERMISSION_DENIED, revoke, carol, "GROUPg1", tip)
    assert_refused(ErrorCode.INVALID_CONVERSATION_ID, revoke, alice, "XYZ", c2c)


def test_recalling_twice_answers_the_same_and_publishes_once(alice, bob, django_capture_on_commit_callbacks):
    message = send_text(alice, "bob", "twice")
    with django_capture_on_commit_callbacks() as first:
        one = revoke(alice, "C2Cbob", message)
    with later(3600), django_capture_on_commit_callbacks() as second:
        two = revoke(alice, "C2Cbob", message)
    assert one.data == two.data
    assert (len(first), len(second)) == (1, 0)


# --- counts, mentions, attachments -------------------------------------------------------------


def test_unread_counts_of_those_who_counted_it_are_taken_back(alice, bob, carol):
    make_group(alice, group_type="Public", members=["bob", "carol"])
    send_group_text(alice, "g1", "first")
    actions.mark_read(carol, "GROUPg1")
    message = send_group_text(alice, "g1", "second")
    actions.mark_read(carol, "GROUPg1")  # carol read it: nothing to take back from her
    send_text(alice, "bob", "c2c")
    assert (conv(bob, "GROUPg1").unread_count, conv(carol, "GROUPg1").unread_count) == (2, 0)

    revoke(alice, "GROUPg1", message)

    assert (conv(bob, "GROUPg1").unread_count, conv(carol, "GROUPg1").unread_count) == (1, 0)
    assert conv(alice, "GROUPg1").unread_count == 0
    assert conversation_list.get_total_unread_count(bob) == 2


def test_c2c_unread_is_taken_back_and_meeting_groups_never_counted(alice, bob):
    message = send_text(alice, "bob", "hi")
    revoke(alice, "C2Cbob", message)
    assert conv(bob, "C2Calice").unread_count == 0
    make_group(alice, group_type="ChatRoom", members=["bob"], group_id="m1")
    meeting = send_group_text(alice, "m1", "x")
    revoke(alice, "GROUPm1", meeting)
    assert conv(bob, "GROUPm1").unread_count == 0


def test_the_mentions_of_a_recalled_message_are_gone(alice, bob, carol):
    make_group(alice, group_type="Public", members=["bob", "carol"])
    kept = send_group_text(alice, "g1", "@bob keep", at_user_list=["bob"])
    message = send_group_text(alice, "g1", "@all gone", at_user_list=["bob", rules.AT_ALL])

    revoke(alice, "GROUPg1", message)

    assert not GroupAtMention.objects.filter(message=message).exists()
    assert [i["messageID"] for i in conversation(bob, "GROUPg1")["groupAtInfoList"]] == [kept.msg_id]
    assert conversation(carol, "GROUPg1")["groupAtInfoList"] == []


def test_a_recalled_attachment_is_no_longer_downloadable_by_the_others(settings, tmp_path, alice, bob):
    use_filesystem_storage(settings, tmp_path)
    stored = upload(alice, "file", b"secret bytes", name="plan.txt")
    message = actions.send_message(
        alice, conversation_type="C2C", to="bob", msg_type="TIMFileElem", payload={"uuid": stored.uuid.hex}
    ).message
    assert access_upload_for_download(bob, stored.uuid.hex) == stored

    revoked = revoke(alice, "C2Cbob", message)

    assert access_upload_for_download(bob, stored.uuid.hex) is None
    assert access_upload_for_download(alice, stored.uuid.hex) == stored, "the uploader keeps their own file"
    assert revoked.data["payload"] == {}


def test_a_recalled_message_cannot_be_forwarded(alice, bob, carol):
    message = send_text(alice, "bob", "secret")
    revoke(alice, "C2Cbob", message)
    assert_refused(
        ErrorCode.CANNOT_FORWARD,
        actions.send_message,
        bob,
        conversation_type="C2C",
        to="carol",
        msg_type="TIMTextElem",
        payload=None,
        forward={"ID": message.msg_id, "conversationID": "C2Calice"},
    )


@pytest.mark.parametrize("n", [3, 20])
def test_recalled_messages_in_history_and_the_conversation_list_cost_no_extra_query(alice, bob, django_assert_num_queries, n):
    """The revoker is selected with the page and with the last message, not looked up per row."""
    for i in range(n):
        revoke(alice, "C2Cbob", send_text(alice, "bob", f"m{i}"))

    with django_assert_num_queries(2):
        page = message_list.get_message_list(bob, "C2Calice")
    with django_assert_num_queries(1):  # no group among them: no mentions query
        [entry] = conversation_list.get_conversation_list(bob)

    assert {m["revokerInfo"]["nick"] for m in page["messageList"]} == {"Alice"}
    assert entry["lastMessage"]["messageForShow"] == "Alice recalled a message"
