"""actions.delete_conversation and pin_conversation: the user's view of a thread."""

import pytest

from messaging import actions, rules
from messaging.errors import ChatError
from messaging.models import Message
from messaging.queries.conversation_list import get_conversation_list, get_total_unread_count
from messaging.queries.message_list import get_message_list
from tests.chat_helpers import (
    conv,
    db_snapshot,
    fast_passwords,  # noqa: F401
    make_group,
    send_group_text,
    send_text,
)

pytestmark = pytest.mark.django_db


def listed_ids(user):
    """The user's chats (the system conversation of group notices left out)."""
    return [c["conversationID"] for c in get_conversation_list(user) if c["conversationID"] != rules.SYSTEM_CONVERSATION_ID]


def test_delete_conversation_hides_it_from_the_list(alice, bob, carol):
    send_text(alice, "bob")
    send_text(carol, "bob")

    assert actions.delete_conversation(bob, "C2Calice") == "C2Calice"

    assert listed_ids(bob) == ["C2Ccarol"]
    assert conv(bob, "C2Calice").is_hidden is True


def test_delete_conversation_keeps_the_messages(alice, bob):
    send_text(alice, "bob", "one")
    send_text(alice, "bob", "two")

    actions.delete_conversation(bob, "C2Calice")

    assert Message.objects.count() == 2
    texts = [m["payload"]["text"] for m in get_message_list(bob, "C2Calice")["messageList"]]
    assert texts == ["one", "two"]


def test_delete_conversation_is_only_for_the_deleting_user(alice, bob):
    send_text(alice, "bob")

    actions.delete_conversation(bob, "C2Calice")

    assert listed_ids(alice) == ["C2Cbob"]


def test_deleted_conversation_no_longer_counts_unread(alice, bob):
    send_text(alice, "bob")
    send_text(alice, "bob")

    actions.delete_conversation(bob, "C2Calice")

    assert get_total_unread_count(bob) == 0


def test_new_message_shows_a_deleted_conversation_again_with_unread_1(alice, bob):
    send_text(alice, "bob")
    send_text(alice, "bob")
    actions.delete_conversation(bob, "C2Calice")

    latest = send_text(alice, "bob", "are you there?")

    [listed] = get_conversation_list(bob)
    assert listed["conversationID"] == "C2Calice"
    assert listed["unreadCount"] == 1
    assert listed["lastMessage"]["ID"] == latest.msg_id
    assert get_total_unread_count(bob) == 1


def test_own_message_shows_a_deleted_conversation_again_without_unread(alice, bob):
    send_text(alice, "bob")
    actions.delete_conversation(bob, "C2Calice")

    send_text(bob, "alice", "back")

    [listed] = get_conversation_list(bob)
    assert (listed["conversationID"], listed["unreadCount"]) == ("C2Calice", 0)


def test_deleted_group_conversation_reappears_on_the_next_group_message(alice, bob):
    make_group(alice, members=["bob"])
    actions.delete_conversation(bob, "GROUPg1")
    assert listed_ids(bob) == []

    send_group_text(alice, "g1")

    assert listed_ids(bob) == ["GROUPg1"]
    assert get_conversation_list(bob)[0]["unreadCount"] == 1


def test_delete_of_a_conversation_without_messages_is_2500(alice, bob):
    before = db_snapshot()
    with pytest.raises(ChatError) as info:
        actions.delete_conversation(alice, "C2Cbob")
    assert info.value.code == 2500
    assert db_snapshot() == before


def test_delete_of_a_group_conversation_you_are_not_in_is_10007(alice, bob, carol):
    make_group(alice, members=["bob"])
    with pytest.raises(ChatError) as info:
        actions.delete_conversation(carol, "GROUPg1")
    assert info.value.code == 10007


def test_pin_puts_a_conversation_first(alice, bob, carol):
    send_text(alice, "bob")
    send_text(carol, "bob")  # the most recent
    assert listed_ids(bob) == ["C2Ccarol", "C2Calice"]

    actions.pin_conversation(bob, "C2Calice", True)
    assert listed_ids(bob) == ["C2Calice", "C2Ccarol"]
    assert get_conversation_list(bob)[0]["isPinned"] is True

    actions.pin_conversation(bob, "C2Calice", False)
    assert listed_ids(bob) == ["C2Ccarol", "C2Calice"]


def test_a_deleted_conversation_loses_its_pin_and_comes_back_unpinned(alice, bob, carol):
    """Deleting a chat takes it off the list with its pin (as in the SDK, where the
    conversation is gone): reopened, or shown again by a new message, it is not pinned."""
    from messaging.queries.conversation_list import get_conversation_profile

    send_text(alice, "bob")
    send_text(carol, "bob")
    actions.pin_conversation(bob, "C2Calice", True)
    actions.delete_conversation(bob, "C2Calice")

    assert conv(bob, "C2Calice").is_pinned is False
    assert get_conversation_profile(bob, "C2Calice")["isPinned"] is False
    send_text(alice, "bob")
    assert listed_ids(bob) == ["C2Calice", "C2Ccarol"]
    assert get_conversation_list(bob)[0]["isPinned"] is False
    send_text(carol, "bob")
    assert listed_ids(bob) == ["C2Ccarol", "C2Calice"]


@pytest.mark.parametrize("is_pinned", ["yes", 1, None])
def test_pin_with_a_non_boolean_is_10004(alice, bob, is_pinned):
    send_text(alice, "bob")
    with pytest.raises(ChatError) as info:
        actions.pin_conversation(bob, "C2Calice", is_pinned)
    assert info.value.code == 10004
    assert conv(bob, "C2Calice").is_pinned is False
