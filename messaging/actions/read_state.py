"""Read cursors: setMessageRead.

The cursor only moves forward (``max(old, new)``) and the unread count is set to
an absolute 0 under the thread's row lock, so it cannot race with a send: a
message is either before the cursor or counted.
"""

from django.db import transaction
from django.db.models import F, Q

from messaging import rules, serialize
from messaging.access import access_conversation
from messaging.events import publish_on_commit
from messaging.models import Conversation, GroupAtMention, Message, Thread, User

PEER_READ_EVENT_LIMIT = 100


def mark_read(user: User, conversation_id, *, origin=None) -> bool:
    """Mark the whole conversation read. Returns whether anything changed (idempotent)."""
    conv = access_conversation(user, conversation_id)
    if conv is None:
        return False
    with transaction.atomic():
        return _read(user, conv, conversation_id)


# setAllMessageRead's scopes (the SDK's TYPES.READ_ALL_*) and the conversations they cover.
READ_ALL_SCOPES = {
    rules.READ_ALL_C2C_MSG: (Thread.Kind.C2C,),
    rules.READ_ALL_GROUP_MSG: (Thread.Kind.GROUP,),
    rules.READ_ALL_MSG: (Thread.Kind.C2C, Thread.Kind.GROUP),
}


def set_all_message_read(user: User, scope=rules.READ_ALL_MSG, *, origin=None) -> list:
    """setAllMessageRead: every C2C and/or group conversation of ``user`` read, as
    setMessageRead reads one (the system conversation keeps its own count, as it stays
    out of the total). Returns the conversationIDs that changed. One transaction; a query
    for the rows, then setMessageRead's statements for each conversation that had
    anything unread, in thread order (the locks are taken in one order: no deadlock with
    another setAllMessageRead)."""
    kinds = READ_ALL_SCOPES[scope]
    convs = (
        Conversation.objects.filter(user=user, thread__kind__in=kinds)
        .filter(Q(unread_count__gt=0) | Q(last_read_seq__lt=F("thread__last_seq")))
        .select_related("peer")
        .order_by("thread_id")
    )
    changed = []
    with transaction.atomic():
        for conv in convs:
            if _read(user, conv, conv.conversation_id):
                changed.append(conv.conversation_id)
    return changed


def _read(user, conv, conversation_id):
    """mark_read's transaction body: ``conv``'s cursor to the thread's end, its count to 0."""
    thread = Thread.objects.select_for_update().get(pk=conv.thread_id)
    old_seq, old_unread, marks = (
        Conversation.objects.filter(pk=conv.pk).values_list("last_read_seq", "unread_count", "marks").get()
    )
    new_seq = max(old_seq, thread.last_seq)
    if marks & rules.MARK_UNREAD:
        # Reading the conversation clears the user's "mark as unread" (markConversation),
        # on every device: a patch of its own, which no seenCursor can make a client drop.
        marks &= ~rules.MARK_UNREAD
        Conversation.objects.filter(pk=conv.pk).update(marks=marks)
        publish_on_commit(
            "CONVERSATION_LIST_UPDATED", [{"conversationID": conversation_id, "markList": rules.mark_list(marks)}], [user.pk]
        )
        if new_seq == old_seq and old_unread == 0:
            return True
    if new_seq == old_seq and old_unread == 0:
        return False
    Conversation.objects.filter(pk=conv.pk).update(last_read_seq=new_seq, unread_count=0)
    GroupAtMention.objects.filter(thread_id=thread.pk, user=user, seq__lte=new_seq).delete()
    publish_on_commit(
        "CONVERSATION_LIST_UPDATED",
        # seenCursor: the conversation's change counter when it was read. A client that has
        # applied a later change drops the patch: it arrived late, the count it has is newer.
        [{"conversationID": conversation_id, "unreadCount": 0, "groupAtInfoList": [], "seenCursor": thread.last_change}],
        [user.pk],
        # As of this read: after the thread's last change, before the next one (the
        # thread is locked), so that a socket can tell it from an older count that
        # arrives late (consumers.ChatConsumer.fresh_count).
        meta={"unread": {str(user.pk): [conversation_id, 0, thread.last_change + 0.5]}},
    )
    if thread.kind == Thread.Kind.C2C and new_seq > old_seq:
        publish_peer_read(user, conv, thread, old_seq, new_seq)
    return True


def publish_peer_read(user, conv, thread, old_seq, new_seq):
    """Tell the C2C peer that ``user`` has read the peer's messages in (old_seq, new_seq]."""
    peer = conv.peer
    read = (
        Message.objects.filter(thread=thread, sender=peer, seq__gt=old_seq, seq__lte=new_seq)
        .select_related("revoker")
        .order_by("-seq")[:PEER_READ_EVENT_LIMIT]
    )
    messages = [
        serialize.for_viewer(
            serialize.message_base(m, thread, sender=peer, to=user.username), peer.username, peer_read_seq=new_seq
        )
        for m in reversed(read)
    ]
    if messages:
        publish_on_commit("MESSAGE_READ_BY_PEER", messages, [peer.pk])
    # The event lists at most 100 messages; the cursor covers all of them.
    publish_on_commit(
        "CONVERSATION_LIST_UPDATED",
        [{"conversationID": rules.c2c_conversation_id(user.username), "peerReadSequence": new_seq}],
        [peer.pk],
    )
