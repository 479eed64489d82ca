"""Read receipts: sendMessageReadReceipt (shared/spec/TIM.md §5.2, docs/PROTOCOL.md).

A message sent with ``needReadReceipt`` asks its receivers to confirm they read it.
A receiver's receipt moves their receipt cursor (``Conversation.receipt_seq``) to the
newest message of the list that asked for one; the cursor only moves forward. Every
count is derived from those cursors (queries/receipts.py): a message of seq ``s`` is
read by the members (not its sender, who could see it: ``min_seq <= s``) whose cursor
is at ``s`` or past it. So a receipt also covers the earlier messages the reader
scrolled past, as reading a chat in order does, and it costs the same whatever the
group's size: one UPDATE of the reader's row and one query for whom to tell (in C2C,
one UPDATE that stamps the receipt's time on the messages it newly covers).

A receipt changes neither unread counts nor ``isPeerRead`` (setMessageRead does
that). After commit the senders whose messages the cursor passed get
MESSAGE_READ_RECEIPT_RECEIVED; the event names a range of the thread, and each
sender's socket turns the ranges it got within ``READ_RECEIPT_WINDOW`` into one frame
with the counts read after the last commit (messaging/receipt_relay.py).
"""

from django.db import transaction
from django.utils import timezone

from messaging import rules, serialize
from messaging.access import access_conversation_state
from messaging.errors import ChatError, ErrorCode
from messaging.events import publish_on_commit
from messaging.models import Conversation, Message, Thread, User


def one_conversation(message_refs, *, code=ErrorCode.INVALID_PARAMETERS) -> str:
    """The conversation every message of the list is in, or ``code`` (10004 by default)."""
    conversation_ids = {ref.conversationID for ref in message_refs}
    if len(conversation_ids) != 1:
        raise ChatError(code, "the messages must all be in one conversation")
    return conversation_ids.pop()


def send_message_read_receipt(user: User, message_refs, *, origin=None) -> bool:
    """Confirm that ``user`` read these messages (1–30 ``{ID, conversationID}`` of one
    conversation). Returns whether the cursor moved (a repeat changes nothing).

    10030 when a message is not one ``user`` may see; 2114 when none of them asked for a
    receipt from ``user`` (their own messages never do). Nothing is written then.
    """
    conversation_id = one_conversation(message_refs)
    conv = access_conversation_state(user, conversation_id)
    message_ids = list(dict.fromkeys(ref.ID for ref in message_refs))
    if conv is None:
        raise ChatError(ErrorCode.MESSAGE_NOT_FOUND, "no such message")
    found = list(
        Message.objects.visible_to(user)
        .filter(thread_id=conv.thread_id, msg_id__in=message_ids, seq__gte=conv.min_seq)
        .values_list("seq", "sender_id", "need_read_receipt")
    )
    if len(found) != len(message_ids):
        raise ChatError(ErrorCode.MESSAGE_NOT_FOUND, "no such message")
    asked = [seq for seq, sender_id, need in found if need and sender_id != user.pk]
    if not asked:
        raise ChatError(ErrorCode.NO_RECEIPT_NEEDED, "none of these messages asked for a read receipt")
    old_seq, new_seq = conv.receipt_seq, max(asked)
    if new_seq <= old_seq:
        return False
    with transaction.atomic():
        moved = Conversation.objects.filter(pk=conv.pk, receipt_seq__lt=new_seq).update(receipt_seq=new_seq)
        if not moved:
            return False  # another tab of this user moved it as far already
        passed = (
            Message.objects.visible_to(user)
            .filter(
                thread_id=conv.thread_id,
                need_read_receipt=True,
                seq__gt=max(old_seq, conv.min_seq - 1),
                seq__lte=new_seq,
                sender__isnull=False,
            )
            .exclude(sender_id=user.pk)
        )
        if conv.kind == Thread.Kind.GROUP:
            senders = list(passed.values_list("sender_id", flat=True).distinct())
            seen_as, group_id, receiver = rules.group_conversation_id(conv.group_id), conv.group_id, ""
        else:
            # One receiver: the time of the receipt that first covered each message is kept
            # on the message (readReceiptInfo.timestamp), in the same one statement.
            senders = [conv.peer_id] if passed.filter(receipt_time__isnull=True).update(receipt_time=timezone.now()) else []
            seen_as, group_id, receiver = rules.c2c_conversation_id(user.username), "", user.username
        notice = serialize.receipt_notice(
            conv.thread_id, seen_as, group_id=group_id, user_id=receiver, after_seq=old_seq, upto_seq=new_seq
        )
        publish_on_commit("MESSAGE_READ_RECEIPT_RECEIVED", notice, senders, origin=origin)
    return True
