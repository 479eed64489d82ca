"""Delete for me: deleteMessage and clearHistoryMessage (shared/spec/TIM.md §5, docs/PROTOCOL.md
§5.37–§5.38).

A deletion changes one user's view of a thread and nobody else's: the SDK's
``deleteMessage`` sets ``isDeleted`` and the message is gone from that user's history
on every later fetch, "other members are not affected"; ``clearHistoryMessage`` does it
for the whole conversation, keeps the conversation, sets its ``unreadCount`` to 0 and
clears its ``lastMessage``.

- ``deleteMessage``: one ``MessageDeletion`` row per message (``Message.visible_to``
  leaves them out of every read of that user's), at most 30 of one conversation.
- ``clearHistoryMessage``: a cursor, ``Conversation.cleared_seq`` (the thread's last
  sequence at the time), which every read of the user's starts after
  (``Conversation.first_seq``). Clearing is reading: the read cursor moves there as
  setMessageRead's does (and the C2C peer learns it), so that no cleared message is
  counted, mentioned or taken back from the count again by a later recall.

Both take the thread's next change number under its row lock, as a recall does
(docs/ARCHITECTURE.md "One recovery path"), and note it on the user's row
(``deleted_change``): the user's other tabs that miss the event learn the deletion
through ``sync``. Every other viewer gets only the number (``serialize.cursor_patch``),
so that their next live change does not look like a lost one.

Unread counts stay absolute and right: a deleted message that counted for the user
(after their read cursor, not their own, not excluded) is taken off their count in the
same transaction; the conversation's ``lastMessage`` becomes the newest message still
visible to them (none after a clear). After commit the user's sockets get
MESSAGE_DELETED (our event: the SDK's deletions are not synced across devices, ours
are) and the conversation patch.
"""

from dataclasses import dataclass

from django.db import connection, transaction

from messaging import rules, serialize
from messaging.access import access_conversation_for_deletion
from messaging.actions.message_send import publish_change_to_others
from messaging.actions.read_receipts import one_conversation
from messaging.actions.read_state import publish_peer_read
from messaging.errors import ChatError, ErrorCode
from messaging.events import publish_on_commit
from messaging.models import Conversation, GroupAtMention, Message, MessageDeletion, Thread, User


@dataclass(frozen=True)
class Deletion:
    """What a deletion did: the conversation, the deleted messages' IDs (in the order asked;
    those deleted before included), and the change number it took (0: nothing changed)."""

    conversation_id: str
    message_ids: list
    change: int


def delete_messages(user: User, message_refs, *, origin=None) -> Deletion:
    """Delete 1–30 messages (``{ID, conversationID}``, all of one conversation) for ``user``.

    10030 when one of them is not a message ``user`` sees (deleted before: it is not;
    nothing is written then); 10035 in an AVChatRoom, 2116 in the system conversation.
    Deleting a message deleted before is allowed only in the same call (the SDK's repeat
    ``deleteMessage`` of a message it no longer holds cannot happen)."""
    conversation_id = one_conversation(message_refs, code=ErrorCode.DELETE_FAILED)
    conv = access_conversation_for_deletion(user, conversation_id)
    message_ids = list(dict.fromkeys(ref.ID for ref in message_refs))
    if conv is None:
        raise ChatError(ErrorCode.MESSAGE_NOT_FOUND, "no such message")
    with transaction.atomic():
        change = next_change(conv.thread_id)
        row = Conversation.objects.select_for_update().get(pk=conv.pk)
        messages = list(
            Message.objects.visible_to(user).filter(thread_id=conv.thread_id, msg_id__in=message_ids, seq__gte=row.first_seq)
        )
        if len(messages) != len(message_ids):
            raise ChatError(ErrorCode.MESSAGE_NOT_FOUND, "no such message")
        MessageDeletion.objects.bulk_create(
            MessageDeletion(user=user, message=m, thread_id=conv.thread_id, change=change) for m in messages
        )
        counts_unread = conv.group.counts_unread if conv.group_id else True
        counted = sum(
            1
            for m in messages
            if counts_unread
            and m.seq > row.last_read_seq
            and m.sender_id != user.pk
            and not (m.excluded_from_unread_count or m.is_targeted)
        )
        row.unread_count = max(row.unread_count - counted, 0)
        deleted_pks = {m.pk for m in messages}
        if row.last_message_id in deleted_pks:
            row.last_message = _newest_visible(user, row)
        row.deleted_change = change
        row.save(update_fields=["unread_count", "last_message", "deleted_change"])
        GroupAtMention.objects.filter(message_id__in=deleted_pks, user=user).delete()
        _publish(user, conv, row, change, {"messageIDList": message_ids})
    return Deletion(conversation_id, message_ids, change)


def clear_history(user: User, conversation_id, *, origin=None) -> Deletion:
    """Clear ``user``'s history of ``conversation_id``: every message up to the thread's
    last one, for them only; the conversation stays, its unread count is 0 and its
    ``lastMessage`` empty. A C2C conversation with no message yet has nothing to clear
    (no change). 10035 in an AVChatRoom, 2116 in the system conversation."""
    conv = access_conversation_for_deletion(user, conversation_id)
    if conv is None:
        return Deletion(conversation_id, [], 0)
    with transaction.atomic():
        thread = Thread.objects.select_for_update().get(pk=conv.thread_id)
        row = Conversation.objects.select_for_update().get(pk=conv.pk)
        if row.cleared_seq >= thread.last_seq:
            return Deletion(conversation_id, [], 0)  # nothing new since the last clear
        change = next_change(thread.pk)
        old_read = row.last_read_seq
        row.cleared_seq = thread.last_seq
        row.last_read_seq = max(row.last_read_seq, thread.last_seq)
        row.unread_count = 0
        row.last_message = None
        row.deleted_change = change
        row.save(update_fields=["cleared_seq", "last_read_seq", "unread_count", "last_message", "deleted_change"])
        GroupAtMention.objects.filter(thread_id=thread.pk, user=user, seq__lte=thread.last_seq).delete()
        _publish(user, conv, row, change, {"messageIDList": [], "clearedSequence": row.cleared_seq})
        if thread.kind == Thread.Kind.C2C and row.last_read_seq > old_read:
            publish_peer_read(user, conv, thread, old_read, row.last_read_seq)
    return Deletion(conversation_id, [], change)


def next_change(thread_pk):
    """The thread's next change number (its row stays locked until commit, so the changes
    commit in order)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE messaging_thread SET last_change = last_change + 1 WHERE id = %s RETURNING last_change", [thread_pk]
        )
        (change,) = cursor.fetchone()
    return change


def _newest_visible(user, row):
    """The conversation's ``lastMessage`` as ``user`` now sees it: their newest visible
    message that could be a last message (the send leaves excludedFromLastMessage out)."""
    return (
        Message.objects.visible_to(user)
        .filter(thread_id=row.thread_id, seq__gte=row.first_seq, excluded_from_last_message=False)
        .select_related("sender", "revoker")
        .order_by("-seq")
        .first()
    )


def _publish(user, conv, row, change, deleted):
    """MESSAGE_DELETED and the conversation patch to every socket of ``user``; the change
    number alone to every other viewer of the thread."""
    conversation_id = conv.conversation_id
    last = row.last_message
    patch = {
        "conversationID": conversation_id,
        "unreadCount": row.unread_count,
        "lastMessage": serialize.last_message(
            last,
            sender=last.sender if last is not None else None,
            peer_read_seq=getattr(conv, "peer_read_seq", 0) or 0,
            viewer_id=user.username,
        )
        or {},
        "syncCursor": change,
    }
    if "clearedSequence" in deleted:
        patch["groupAtInfoList"] = []
    if row.is_hidden:
        # A deleted conversation (deleteConversation) stays out of the list: a patch with a
        # lastMessage would bring it back in the SDK (docs/PROTOCOL.md §6.3).
        del patch["lastMessage"]
    publish_on_commit("MESSAGE_DELETED", {"conversationID": conversation_id, **deleted}, [user.pk])
    publish_on_commit(
        "CONVERSATION_LIST_UPDATED",
        [patch],
        [user.pk],
        meta={"unread": {str(user.pk): [conversation_id, row.unread_count, change]}},
    )
    if conv.thread.kind == Thread.Kind.GROUP:
        publish_change_to_others(conv.thread, conversation_id, change, [user.pk])
    elif conv.peer_id is not None:
        publish_on_commit(
            "CONVERSATION_LIST_UPDATED",
            [serialize.cursor_patch(rules.c2c_conversation_id(user.username), change)],
            [conv.peer_id],
        )
