"""actions.mark_read: the read cursor only moves forward and unread goes to an absolute 0."""

import pytest

from messaging import actions
from messaging.errors import ChatError
from messaging.models import Conversation, Thread
from messaging.queries.conversation_list import get_total_unread_count
from tests.chat_helpers import (
    conv,
    db_snapshot,
    fast_passwords,  # noqa: F401
    make_group,
    send_group_text,
    send_text,
)

pytestmark = pytest.mark.django_db


def test_mark_read_sets_unread_to_zero_and_cursor_to_the_last_seq(alice, bob):
    for _ in range(3):
        send_text(alice, "bob")

    assert actions.mark_read(bob, "C2Calice") is True

    row = conv(bob, "C2Calice")
    assert (row.unread_count, row.last_read_seq) == (0, 3)
    assert get_total_unread_count(bob) == 0


def test_mark_read_is_idempotent(alice, bob):
    send_text(alice, "bob")
    actions.mark_read(bob, "C2Calice")
    before = db_snapshot()

    assert actions.mark_read(bob, "C2Calice") is False
    assert db_snapshot() == before


def test_mark_read_touches_only_the_readers_row(alice, bob):
    send_text(alice, "bob")
    send_text(bob, "alice")

    actions.mark_read(bob, "C2Calice")

    assert conv(alice, "C2Cbob").unread_count == 1
    assert conv(alice, "C2Cbob").last_read_seq == 0


def test_read_cursor_never_moves_back(alice, bob):
    for _ in range(4):
        send_text(alice, "bob")
    actions.mark_read(bob, "C2Calice")
    # Arrange a stale thread counter (e.g. a replayed request seeing an older state).
    Thread.objects.filter(pk=conv(bob, "C2Calice").thread_id).update(last_seq=2)

    actions.mark_read(bob, "C2Calice")

    assert conv(bob, "C2Calice").last_read_seq == 4


def test_messages_after_mark_read_count_again_from_zero(alice, bob):
    send_text(alice, "bob")
    actions.mark_read(bob, "C2Calice")
    send_text(alice, "bob")
    send_text(alice, "bob")

    row = conv(bob, "C2Calice")
    assert (row.unread_count, row.last_read_seq) == (2, 1)
    actions.mark_read(bob, "C2Calice")
    assert (conv(bob, "C2Calice").unread_count, conv(bob, "C2Calice").last_read_seq) == (0, 3)


def test_mark_read_in_a_group_zeroes_only_the_reader(alice, bob, carol):
    make_group(alice, members=["bob", "carol"])
    send_group_text(alice, "g1")
    send_group_text(alice, "g1")

    actions.mark_read(bob, "GROUPg1")

    assert conv(bob, "GROUPg1").unread_count == 0
    assert conv(bob, "GROUPg1").last_read_seq == 3  # the creation tip plus two messages
    assert conv(carol, "GROUPg1").unread_count == 2


def test_total_unread_sums_c2c_and_group_conversations(alice, bob, carol):
    make_group(alice, members=["bob"])
    send_text(alice, "bob")
    send_text(carol, "bob")
    send_text(carol, "bob")
    send_group_text(alice, "g1")

    assert get_total_unread_count(bob) == 4
    actions.mark_read(bob, "C2Ccarol")
    assert get_total_unread_count(bob) == 2


def test_mark_read_of_a_c2c_conversation_with_no_messages_is_a_no_op(alice, bob):
    before = db_snapshot()
    assert actions.mark_read(alice, "C2Cbob") is False
    assert db_snapshot() == before


def test_mark_read_of_a_group_you_are_not_in_is_10007(alice, bob, carol):
    make_group(alice, members=["bob"])
    send_group_text(alice, "g1")
    before = db_snapshot()

    with pytest.raises(ChatError) as info:
        actions.mark_read(carol, "GROUPg1")

    assert info.value.code == 10007
    assert db_snapshot() == before


@pytest.mark.parametrize("conversation_id", ["", "XYZ", "C2C", None, 7])
def test_mark_read_of_a_malformed_conversation_id_is_2503(alice, conversation_id):
    with pytest.raises(ChatError) as info:
        actions.mark_read(alice, conversation_id)
    assert info.value.code == 2503


def test_mark_read_does_not_change_other_conversations(alice, bob, carol):
    send_text(alice, "bob")
    send_text(carol, "bob")

    actions.mark_read(bob, "C2Calice")

    assert Conversation.objects.get(user=bob, conversation_id="C2Ccarol").unread_count == 1
