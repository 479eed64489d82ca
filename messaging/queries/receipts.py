"""Read-receipt reads: getMessageReadReceiptList, getGroupMessageReadMemberList, and the
counts a sender's socket pushes as MESSAGE_READ_RECEIPT_RECEIVED.

Counts come from the members' receipt cursors (``Conversation.receipt_seq``; see
actions/read_receipts.py): for a message of seq ``s`` from sender ``S``, its audience
is the thread's conversation rows other than ``S``'s with ``min_seq <= s`` (the
members now in the group who could see it; someone who left is no longer counted),
narrowed to its receivers for a targeted message (``receiverList``), read by those
whose cursor is ``>= s``. Every message lookup goes through
``Message.objects.visible_to``. Fixed query counts, whatever the group's size.
"""

from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact

from messaging import rules, serialize
from messaging.access import access_conversation_state
from messaging.actions.read_receipts import one_conversation
from messaging.errors import ChatError, ErrorCode
from messaging.models import Conversation, Message, MessageReceiver, Thread, User

# A sender's socket reports at most this many messages per frame (the newest); the
# SDK refetches older ones with getMessageReadReceiptList.
RECEIPT_EVENT_LIMIT = 100


def _audience():
    """The conversation rows that count for the outer message: not its sender's, present
    when it was sent, and a receiver's if it is a targeted message."""
    receives = MessageReceiver.objects.filter(message=OuterRef(OuterRef("pk")), user=OuterRef("user"))
    return (
        Conversation.objects.filter(thread=OuterRef("thread"), min_seq__lte=OuterRef("seq"))
        .filter(Q(Exact(OuterRef("is_targeted"), False)) | Q(Exists(receives)))
        .exclude(user=OuterRef("sender"))
    )


def _aggregate(rows, expression):
    return Subquery(rows.order_by().values("thread").annotate(value=expression).values("value")[:1])


def with_receipt_counts(messages):
    """``messages`` annotated with ``read_count`` and ``unread_count``."""
    return messages.annotate(
        read_count=Coalesce(_aggregate(_audience().filter(receipt_seq__gte=OuterRef("seq")), Count("pk")), 0),
        unread_count=Coalesce(_aggregate(_audience().filter(receipt_seq__lt=OuterRef("seq")), Count("pk")), 0),
    )


def _info(kind, message):
    if not message.need_read_receipt:
        return serialize.read_receipt_info(kind, 0, 0, None)
    return serialize.read_receipt_info(kind, message.read_count, message.unread_count, message.receipt_time)


def get_message_read_receipt_list(user: User, message_refs) -> dict:
    """``{messageList: [{ID, conversationID, readReceiptInfo}]}`` in the order asked, for
    1–30 messages of one conversation ``user`` may see (10030 otherwise). A message that
    did not ask for receipts has zeros. Two queries."""
    conversation_id = one_conversation(message_refs)
    conv = access_conversation_state(user, conversation_id)
    message_ids = list(dict.fromkeys(ref.ID for ref in message_refs))
    if conv is None:
        raise ChatError(ErrorCode.MESSAGE_NOT_FOUND, "no such message")
    rows = {
        m.msg_id: m
        for m in with_receipt_counts(
            Message.objects.visible_to(user)
            .filter(thread_id=conv.thread_id, msg_id__in=message_ids, seq__gte=conv.min_seq)
            .only("msg_id", "seq", "sender_id", "need_read_receipt", "thread_id", "receipt_time", "is_targeted")
        )
    }
    if len(rows) != len(message_ids):
        raise ChatError(ErrorCode.MESSAGE_NOT_FOUND, "no such message")
    kind = conv.kind
    return {
        "messageList": [
            {"ID": mid, "conversationID": conversation_id, "readReceiptInfo": _info(kind, rows[mid])} for mid in message_ids
        ]
    }


def get_group_message_read_member_list(user: User, message_ref, *, member_filter, cursor="", count=None) -> dict:
    """One page of the members who read (``member_filter`` 0) or have not read (1) a group
    message that asked for receipts, by user, from ``cursor``. Any member may ask (as in
    the SDK); a non-member gets 10007, a message they cannot see 10030, a message without
    receipts (or not in a group) 10062. Three queries."""
    count = min(count or rules.READ_MEMBER_PAGE, rules.READ_MEMBER_PAGE)
    try:
        after = int(cursor) if cursor else 0
    except ValueError:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "cursor must be the cursor of the previous page") from None
    conv = access_conversation_state(user, message_ref.conversationID)
    if conv is None:
        raise ChatError(ErrorCode.MESSAGE_NOT_FOUND, "no such message")
    message = (
        Message.objects.visible_to(user)
        .filter(thread_id=conv.thread_id, msg_id=message_ref.ID, seq__gte=conv.min_seq)
        .values("pk", "seq", "sender_id", "need_read_receipt", "is_targeted")
        .first()
    )
    if message is None:
        raise ChatError(ErrorCode.MESSAGE_NOT_FOUND, "no such message")
    if conv.kind != Thread.Kind.GROUP or not message["need_read_receipt"]:
        raise ChatError(ErrorCode.RECEIPT_INFO_NOT_FOUND, "this message has no read-receipt information")
    seq = message["seq"]
    read = Q(receipt_seq__gte=seq)
    members = Conversation.objects.filter(thread_id=conv.thread_id, min_seq__lte=seq, user_id__gt=after)
    if message["is_targeted"]:
        members = members.filter(Exists(MessageReceiver.objects.filter(message_id=message["pk"], user=OuterRef("user"))))
    members = (
        members.filter(read if member_filter == rules.READ_MEMBERS else ~read)
        .exclude(user_id=message["sender_id"])
        .order_by("user_id")
        .values_list("user_id", "user__username")[: count + 1]
    )
    page = list(members)
    is_completed = len(page) <= count
    page = page[:count]
    key = "readUserIDList" if member_filter == rules.READ_MEMBERS else "unreadUserIDList"
    return {
        "isCompleted": is_completed,
        "cursor": "" if is_completed else str(page[-1][0]),
        "messageID": message_ref.ID,
        key: [username for _, username in page],
    }


def get_receipt_updates(user: User, notices: list) -> list:
    """The MESSAGE_READ_RECEIPT_RECEIVED items for ``user``'s own messages in the ranges
    of ``notices`` (``serialize.receipt_notice``; one per thread), newest first, at most
    ``RECEIPT_EVENT_LIMIT``, with the counts as they are now. Only threads ``user``
    still has a conversation in. One query."""
    by_thread = {notice["thread"]: notice for notice in notices}
    ranges = Q()
    for notice in notices:
        ranges |= Q(thread_id=notice["thread"], seq__gt=notice["after"], seq__lte=notice["upto"])
    own_conversation = Conversation.objects.filter(thread=OuterRef("thread"), user=user, min_seq__lte=OuterRef("seq"))
    messages = with_receipt_counts(
        Message.objects.filter(ranges, sender=user, need_read_receipt=True)
        .filter(Exists(own_conversation))
        .only("msg_id", "seq", "thread_id", "sender_id", "need_read_receipt", "receipt_time", "is_targeted")
    ).order_by("-seq")[:RECEIPT_EVENT_LIMIT]
    items = []
    for message in messages:
        notice = by_thread[message.thread_id]
        info = serialize.read_receipt_info(notice["kind"], message.read_count, message.unread_count, message.receipt_time)
        items.append(serialize.receipt_event_item(notice, message.msg_id, info))
    return items
