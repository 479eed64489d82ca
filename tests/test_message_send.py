"""actions.send_message: storage, sequence, client IDs, limits, errors, unread."""

from datetime import timedelta

import pytest
from django.utils import timezone

from messaging import actions
from messaging.actions.message_send import random_message_id
from messaging.errors import ChatError
from messaging.models import Conversation, Message, Thread
from messaging.queries.message_list import get_message_list
from tests.chat_helpers import (
    TEXT_OVERHEAD,
    assert_refused,
    conv,
    db_snapshot,
    fast_passwords,  # noqa: F401
    make_group,
    mute,
    send_group_text,
    send_text,
    text_body_bytes,
    thread_seqs,
)

pytestmark = pytest.mark.django_db

LIMIT = 12 * 1024


# --- storing ------------------------------------------------------------------------


def test_c2c_text_is_stored_with_sender_thread_and_payload(alice, bob):
    message = send_text(alice, "bob", "hi bob")

    stored = Message.objects.get(pk=message.pk)
    assert stored.sender == alice
    assert stored.type == "TIMTextElem"
    assert stored.payload == {"text": "hi bob"}
    assert stored.seq == 1
    assert stored.thread.kind == Thread.Kind.C2C
    assert stored.thread.key == Thread.c2c_key(alice.pk, bob.pk)
    assert conv(alice, "C2Cbob").last_message_id == stored.pk
    assert conv(bob, "C2Calice").last_message_id == stored.pk


def test_c2c_pair_shares_one_thread_in_both_directions(alice, bob):
    first = send_text(alice, "bob", "one")
    second = send_text(bob, "alice", "two")

    assert first.thread_id == second.thread_id
    assert Thread.objects.filter(kind=Thread.Kind.C2C).count() == 1
    assert Conversation.objects.filter(thread_id=first.thread_id).count() == 2


def test_group_text_is_stored_in_the_group_thread(alice, bob):
    group = make_group(alice, members=["bob"])
    message = send_group_text(bob, "g1", "hi team")

    assert message.thread_id == group.thread_id
    assert Message.objects.get(pk=message.pk).payload == {"text": "hi team"}
    assert conv(alice, "GROUPg1").last_message_id == message.pk


def test_c2c_seq_is_gap_free_from_one_across_both_senders(alice, bob):
    messages = [send_text(sender, peer, f"m{i}") for i, (sender, peer) in enumerate([(alice, "bob"), (bob, "alice")] * 4)]

    thread = messages[0].thread
    assert thread_seqs(thread) == list(range(1, 9))
    assert [m.seq for m in messages] == list(range(1, 9))
    thread.refresh_from_db()
    assert thread.last_seq == 8


def test_group_seq_is_gap_free_with_tips_included(alice, bob):
    group = make_group(alice, members=["bob"])  # seq 1: the creation tip
    for i in range(3):
        send_group_text(alice if i % 2 else bob, "g1", f"m{i}")

    assert thread_seqs(group.thread) == [1, 2, 3, 4]
    group.thread.refresh_from_db()
    assert group.thread.last_seq == 4


def test_each_thread_has_its_own_sequence(alice, bob, carol):
    send_text(alice, "bob")
    send_text(alice, "bob")
    first_with_carol = send_text(alice, "carol")

    assert first_with_carol.seq == 1


def test_priority_and_cloud_custom_data_are_stored_and_returned(alice, bob):
    message = send_text(alice, "bob", "urgent", priority="High", cloud_custom_data='{"reply":"x"}')

    stored = Message.objects.get(pk=message.pk)
    assert (stored.priority, stored.cloud_custom_data) == ("High", '{"reply":"x"}')
    listed = get_message_list(bob, "C2Calice")["messageList"][0]
    assert (listed["priority"], listed["cloudCustomData"]) == ("High", '{"reply":"x"}')


def test_priority_defaults_to_normal(alice, bob):
    assert Message.objects.get(pk=send_text(alice, "bob").pk).priority == "Normal"


@pytest.mark.parametrize("priority", ["High", "Normal", "Low", "Lowest"])
def test_every_sdk_priority_is_accepted(alice, bob, priority):
    assert send_text(alice, "bob", priority=priority).priority == priority


# --- the client's message ID ----------------------------------------------------------


def test_client_message_id_becomes_the_message_id(alice, bob):
    message = send_text(alice, "bob", msg_id="144115-1700000000-42")

    assert message.msg_id == "144115-1700000000-42"
    assert get_message_list(bob, "C2Calice")["messageList"][0]["ID"] == "144115-1700000000-42"


def test_resend_with_the_same_id_returns_the_stored_message(alice, bob):
    first = send_text(alice, "bob", "once", msg_id="client-1")
    before = db_snapshot()

    again = send_text(alice, "bob", "once", msg_id="client-1")

    assert again.pk == first.pk
    assert Message.objects.filter(msg_id="client-1").count() == 1
    assert db_snapshot() == before
    assert conv(bob, "C2Calice").unread_count == 1


def test_same_client_id_from_two_senders_in_two_conversations_is_two_messages(alice, bob, carol):
    mine = send_text(alice, "bob", msg_id="same")
    theirs = send_text(bob, "carol", msg_id="same")

    assert mine.pk != theirs.pk
    assert Message.objects.filter(msg_id="same").count() == 2


def test_another_senders_id_in_the_same_conversation_is_refused(alice, bob):
    """An ID names one message in its thread: paging cursors and forwards rely on it."""
    send_text(alice, "bob", msg_id="same")

    with pytest.raises(ChatError) as error:
        send_text(bob, "alice", msg_id="same")

    assert error.value.code == 10004
    assert Message.objects.filter(msg_id="same").count() == 1


def test_server_makes_distinct_ids_when_the_client_sends_none(alice, bob):
    ids = {send_text(alice, "bob").msg_id for _ in range(3)}
    assert len(ids) == 3 and all(ids)


# --- body limit -----------------------------------------------------------------------


def test_body_of_exactly_12_kb_is_accepted(alice, bob):
    text = "a" * (LIMIT - TEXT_OVERHEAD)
    assert text_body_bytes(text) == LIMIT

    message = send_text(alice, "bob", text)

    assert Message.objects.get(pk=message.pk).payload["text"] == text


def test_body_one_byte_over_12_kb_is_80002(alice, bob):
    text = "a" * (LIMIT - TEXT_OVERHEAD + 1)
    assert_refused(80002, send_text, alice, "bob", text)


def test_cloud_custom_data_counts_towards_the_body(alice, bob):
    text = "a" * (LIMIT - TEXT_OVERHEAD - 10)
    send_text(alice, "bob", text, cloud_custom_data="x" * 10)  # exactly 12 KB in all

    assert_refused(80002, send_text, alice, "bob", text, cloud_custom_data="x" * 11)


def test_body_is_measured_in_utf8_bytes_not_characters(alice, bob):
    text = "中" * 4096  # 4096 characters, 12288 bytes of text alone
    assert_refused(80002, send_text, alice, "bob", text)


def test_body_over_12_kb_in_a_group_writes_nothing(alice, bob):
    make_group(alice, members=["bob"])
    assert_refused(80002, send_group_text, bob, "g1", "a" * LIMIT)


# --- refusals -------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_empty_or_whitespace_text_is_10004(alice, bob, text):
    assert_refused(10004, send_text, alice, "bob", text)


def test_text_payload_without_text_is_10004(alice, bob):
    assert_refused(10004, actions.send_message, alice, conversation_type="C2C", to="bob", msg_type="TIMTextElem", payload={})


def test_unknown_user_is_20003(alice):
    assert_refused(20003, send_text, alice, "nobody")


def test_inactive_user_is_20003(alice, bob):
    actions.set_user_active(bob, False)
    assert_refused(20003, send_text, alice, "bob")


def test_unknown_group_is_10010(alice):
    assert_refused(10010, send_group_text, alice, "no-such-group")


def test_non_member_send_to_group_is_10007(alice, bob, carol):
    make_group(alice, members=["bob"])
    assert_refused(10007, send_group_text, carol, "g1", "let me in")


def test_muted_member_is_10017(alice, bob):
    make_group(alice, group_type="Public", members=["bob"])
    send_group_text(bob, "g1", "before the mute")
    mute("g1", bob, 600)

    assert_refused(10017, send_group_text, bob, "g1", "muted")


def test_the_app_admins_send_skips_mutes_and_membership_but_not_the_rest(alice, bob, carol):
    make_group(alice, group_type="Public", members=["bob"])
    mute("g1", bob, 600)
    actions.set_mute_all(alice, "g1", True)
    assert send_group_text(bob, "g1", "muted, but the server speaks for me", by_admin=True).sender_id == bob.pk
    # The app admin's own account posts in a group it is not in; other checks stay.
    assert send_group_text(carol, "g1", "announcement", by_admin=True).sender_id == carol.pk
    assert_refused(10010, send_group_text, carol, "nope", "x", by_admin=True)
    assert_refused(80002, send_group_text, carol, "g1", "x" * 13_000, by_admin=True)


def test_the_app_admins_c2c_send_skips_the_block_list_and_the_friendship_check(alice, bob, settings):
    settings.CHAT = {**settings.CHAT, "FRIENDSHIP_CHECK": True}
    actions.add_to_blacklist(bob, ["alice"])
    assert_refused(20007, send_text, alice, "bob")
    assert send_text(alice, "bob", "from the backend", by_admin=True).thread.key == Thread.c2c_key(alice.pk, bob.pk)
    assert_refused(20003, send_text, alice, "nobody", by_admin=True)


def test_a_random_message_id_is_one_per_sender_random_and_target(alice, bob, carol):
    ids = {
        random_message_id(sender.pk, kind, to, random)
        for sender in (alice, bob)
        for kind, to in (("C2C", "carol"), ("C2C", "dave"), ("GROUP", "carol"))
        for random in (1, 2)
    }
    assert len(ids) == 12 and random_message_id(alice.pk, "C2C", "carol", 1) in ids
    assert max(len(i) for i in ids) <= 64
    first = send_text(alice, "bob", "once", msg_id=random_message_id(alice.pk, "C2C", "bob", 7))
    again = send_text(alice, "bob", "twice", msg_id=random_message_id(alice.pk, "C2C", "bob", 7))
    assert again.pk == first.pk and Message.objects.filter(sender=alice).count() == 1


def test_expired_mute_allows_sending(alice, bob, monkeypatch):
    make_group(alice, group_type="Public", members=["bob"])
    mute("g1", bob, 60)
    later = timezone.now() + timedelta(seconds=61)
    monkeypatch.setattr(timezone, "now", lambda: later)

    assert send_group_text(bob, "g1", "free again").seq == 3


@pytest.mark.parametrize("conversation_type", ["@TIM#SYSTEM", "junk", "", None, "c2c"])
def test_bad_conversation_type_is_2106(alice, bob, conversation_type):
    assert_refused(2106, send_text, alice, "bob", conversation_type=conversation_type)


@pytest.mark.parametrize("priority", ["Urgent", "high", "", None])
def test_unknown_priority_is_10004(alice, bob, priority):
    assert_refused(10004, send_text, alice, "bob", priority=priority)


def test_sending_to_yourself_is_10004(alice):
    assert_refused(10004, send_text, alice, "alice")


def test_unsupported_message_type_is_10004(alice, bob):
    assert_refused(
        10004,
        actions.send_message,
        alice,
        conversation_type="C2C",
        to="bob",
        msg_type="TIMGroupTipElem",
        payload={"operationType": 1},
    )


def test_refused_send_into_existing_thread_leaves_it_untouched(alice, bob):
    send_text(alice, "bob", "ok")
    assert_refused(80002, send_text, alice, "bob", "a" * LIMIT)
    assert_refused(10004, send_text, alice, "bob", " ")

    assert send_text(alice, "bob", "next").seq == 2


# --- unread ---------------------------------------------------------------------------


def test_c2c_send_counts_unread_for_the_receiver_only(alice, bob):
    send_text(alice, "bob")
    send_text(alice, "bob")

    assert conv(bob, "C2Calice").unread_count == 2
    assert conv(alice, "C2Cbob").unread_count == 0


def test_group_send_counts_unread_for_every_member_but_the_sender(alice, bob, carol):
    make_group(alice, members=["bob", "carol"])
    send_group_text(bob, "g1")

    assert conv(alice, "GROUPg1").unread_count == 1
    assert conv(carol, "GROUPg1").unread_count == 1
    assert conv(bob, "GROUPg1").unread_count == 0


def test_group_tips_do_not_count_unread(alice, bob, carol):
    make_group(alice, members=["bob"])
    actions.add_members(bob, "g1", ["carol"])

    for user in (alice, bob, carol):
        assert conv(user, "GROUPg1").unread_count == 0
    assert Message.objects.filter(thread__key="group:g1", type="TIMGroupTipElem").count() == 2


def test_meeting_group_never_counts_unread(alice, bob, carol):
    make_group(alice, group_type="ChatRoom", members=["bob", "carol"])
    for _ in range(3):
        send_group_text(bob, "g1")

    assert conv(alice, "GROUPg1").unread_count == 0
    assert conv(carol, "GROUPg1").unread_count == 0
    assert conv(carol, "GROUPg1").last_message.payload == {"text": "hello"}


def test_public_group_counts_unread(alice, bob):
    make_group(alice, group_type="Public", members=["bob"])
    send_group_text(alice, "g1")

    assert conv(bob, "GROUPg1").unread_count == 1


def test_mute_all_refuses_plain_members_but_not_the_owner(alice, bob):
    make_group(alice, group_type="Public", members=["bob"])
    actions.set_mute_all(alice, "g1", True)

    assert_refused(10017, send_group_text, bob, "g1", "hush")
    assert send_group_text(alice, "g1", "announcement").seq == 3
