"""Conversation state: delete (hide) and pin."""

from django.db import transaction

from messaging.access import access_conversation
from messaging.actions.read_state import publish_peer_read
from messaging.errors import ChatError, ErrorCode
from messaging.events import publish_on_commit
from messaging.models import Conversation, Thread, User


def delete_conversation(user: User, conversation_id, *, origin=None) -> str:
    """Hide the conversation from the user's list, unpinned; its messages remain.

    The conversation counts as read (it is out of sight); a new message shows it
    again with that message unread. As with setMessageRead, a C2C peer is told
    (MESSAGE_READ_BY_PEER), so its isPeerRead marks match what a refetch shows.
    """
    conv = access_conversation(user, conversation_id)
    if conv is None:
        raise ChatError(ErrorCode.CONVERSATION_NOT_FOUND, f"conversation {conversation_id!r} not found")
    with transaction.atomic():
        thread = Thread.objects.select_for_update().get(pk=conv.thread_id)
        old_seq = Conversation.objects.filter(pk=conv.pk).values_list("last_read_seq", flat=True).get()
        # The pin goes with it: a chat reopened or shown again by a new message is not pinned.
        Conversation.objects.filter(pk=conv.pk).update(
            is_hidden=True, is_pinned=False, unread_count=0, last_read_seq=thread.last_seq
        )
        if thread.kind == Thread.Kind.C2C and thread.last_seq > old_seq:
            publish_peer_read(user, conv, thread, old_seq, thread.last_seq)
        publish_on_commit(
            "CONVERSATION_LIST_UPDATED",
            [{"conversationID": conversation_id, "deleted": True}],
            [user.pk],
            meta={"unread": {str(user.pk): [conversation_id, 0]}},
        )
    return conversation_id


def pin_conversation(user: User, conversation_id, is_pinned, *, origin=None) -> str:
    if not isinstance(is_pinned, bool):
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "isPinned must be true or false")
    conv = access_conversation(user, conversation_id)
    if conv is None:
        raise ChatError(ErrorCode.CONVERSATION_NOT_FOUND, f"conversation {conversation_id!r} not found")
    with transaction.atomic():
        Conversation.objects.filter(pk=conv.pk).update(is_pinned=is_pinned)
        publish_on_commit("CONVERSATION_LIST_UPDATED", [{"conversationID": conversation_id, "isPinned": is_pinned}], [user.pk])
    return conversation_id
