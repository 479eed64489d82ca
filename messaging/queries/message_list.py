"""getMessageList: keyset pagination on the thread's ``seq``, newest page first.

Every read here goes through ``Message.objects.visible_to(user)``: a targeted group
message is in its sender's and receivers' history only (a viewer's ``sequence``s may
then have holes).

Queries: the conversation (with the peer's read cursor), the cursor message when
``nextReqMessageID`` is given, one page of messages, and in a group the page's
senders' name cards: at most 4, never OFFSET.
"""

from datetime import UTC, datetime, timedelta

from messaging import conf, serialize
from messaging.access import access_conversation, access_group
from messaging.compiled import CompiledQuery
from messaging.errors import ChatError, ErrorCode
from messaging.models import Message, Thread, User
from messaging.queries.name_cards import name_cards


def get_message_list(user: User, conversation_id, *, next_req_message_id=None, count=None) -> dict:
    page_size = conf.get("MESSAGE_PAGE_SIZE")
    if count is None:
        count = page_size
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "count must be a positive integer")
    count = min(count, page_size)
    conv = access_conversation(user, conversation_id)
    empty = {"messageList": [], "nextReqMessageID": "", "isCompleted": True}
    if conv is None:
        return empty
    # From the first message the user may see and has not cleared (clearHistoryMessage);
    # those they deleted are not visible to them (Message.visible_to).
    if next_req_message_id:
        if not isinstance(next_req_message_id, str):
            raise ChatError(ErrorCode.INVALID_PARAMETERS, "nextReqMessageID must be a string")
        cursor = CURSOR_SEQ.list(user.pk, conv.thread_id, next_req_message_id)
        if not cursor:
            raise ChatError(ErrorCode.INVALID_PARAMETERS, f"nextReqMessageID {next_req_message_id!r} is not in this conversation")
        page = PAGE_BEFORE.list(user.pk, conv.thread_id, conv.first_seq, cursor[0], shape=(count + 1,))
    else:
        page = PAGE.list(user.pk, conv.thread_id, conv.first_seq, shape=(count + 1,))
    is_completed = len(page) <= count
    page = page[:count]
    page.reverse()
    message_list = _as_seen_by(user, conv, page)
    return {
        "messageList": message_list,
        "nextReqMessageID": message_list[0]["ID"] if message_list and not is_completed else "",
        "isCompleted": is_completed,
    }


def _page(user_id, thread_id, first_seq, *before_and_limit):
    """The newest ``limit`` messages of the thread that the user may read, from ``first_seq``
    on (and before the sequence ``before``, when given), newest first."""
    *before, limit = before_and_limit
    messages = _readable_in(user_id, thread_id, first_seq)
    if before:
        messages = messages.filter(seq__lt=before[0])
    return messages.select_related("sender", "revoker").order_by("-seq")[:limit]


# Compiled once per page size (messaging/compiled.py): building them was a third of a
# getMessageList's CPU (docs/PERFORMANCE.md, "a restart's dead time").
PAGE = CompiledQuery(_page, int, int, int)
PAGE_BEFORE = CompiledQuery(_page, int, int, int, int)
CURSOR_SEQ = CompiledQuery(
    lambda user_id, thread_id, msg_id: (
        # As ``first()`` read it (ordered, one row); (thread, msg_id) is unique anyway.
        Message.objects.visible_to(user_id)
        .filter(thread_id=thread_id, msg_id=msg_id)
        .order_by("pk")
        .values_list("seq", flat=True)[:1]
    ),
    int,
    int,
    str,
)


def _as_seen_by(user: User, conv, page) -> list[dict]:
    """``page`` (messages of ``conv``'s thread) as ``user`` sees them; in a group one more
    query, for the senders' name cards."""
    thread = conv.thread
    cards = {}
    if thread.kind == Thread.Kind.GROUP:
        to_for = lambda m: conv.group.group_id  # noqa: E731
        cards = name_cards((m.thread_id, m.sender_id) for m in page if m.sender_id)
    else:
        to_for = lambda m: conv.peer.username if m.sender_id == user.pk else user.username  # noqa: E731
    return [
        serialize.for_viewer(
            serialize.message_base(m, thread, sender=m.sender, to=to_for(m), name_card=cards.get((m.thread_id, m.sender_id), "")),
            user.username,
            peer_read_seq=conv.peer_read_seq,
        )
        for m in page
    ]


def _readable(user: User, conv):
    """The messages of ``conv`` that ``user`` may read: from their first visible sequence
    (joined, cleared) on, and not hidden from them (Message.visible_to)."""
    return _readable_in(user, conv.thread_id, conv.first_seq)


def _readable_in(user, thread_id, first_seq):
    """``_readable`` from the conversation's values (``user`` a User or its pk)."""
    return Message.objects.visible_to(user).filter(thread_id=thread_id, seq__gte=first_seq)


HOP_UP, HOP_DOWN = 0, 1  # the SDK's direction: 0 older messages, 1 newer ones


def get_message_list_hopping(user: User, conversation_id, *, sequence=None, time=None, count=None, direction=HOP_UP) -> dict:
    """getMessageListHopping: a page of history from a position, not from the newest end,
    to open the chat at an old message (a reply's original, a search result).

    The position is ``sequence`` (the thread's ``seq``; the vendor names it for groups,
    here every conversation has one) or ``time`` (server seconds; the vendor's C2C
    cursor); one of them, not both. ``direction`` 0 (up): the ``count`` newest messages
    at or before the position; 1 (down): the ``count`` oldest at or after it. The message
    at the position is included, so that hopping to it shows it. Oldest first, as
    getMessageList. ``isCompleted``: nothing more in that direction; ``nextMessageSeq`` /
    ``nextMessageTime``: where the next hop in the same direction starts (0 when
    complete). Only what getMessageList would show: nothing before the user's first
    visible sequence, nothing hidden from them. Queries: the conversation, one page, in a
    group the page's name cards: at most 3.
    """
    page_size = conf.get("MESSAGE_PAGE_SIZE")
    count = page_size if count is None else min(count, page_size)
    if (sequence is None) == (time is None):
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "give one of sequence and time")
    conv = access_conversation(user, conversation_id)
    if conv is None:
        return {"messageList": [], "isCompleted": True, "nextMessageSeq": 0, "nextMessageTime": 0}
    messages = _readable(user, conv)
    if sequence is not None:
        messages = messages.filter(seq__lte=sequence) if direction == HOP_UP else messages.filter(seq__gte=sequence)
    else:
        at = datetime.fromtimestamp(time, tz=UTC)
        if direction == HOP_UP:
            messages = messages.filter(created_at__lt=at + timedelta(seconds=1))
        else:
            messages = messages.filter(created_at__gte=at)
    order = "-seq" if direction == HOP_UP else "seq"
    page = list(messages.select_related("sender", "revoker").order_by(order)[: count + 1])
    is_completed = len(page) <= count
    page = page[:count]
    if direction == HOP_UP:
        page.reverse()
    message_list = _as_seen_by(user, conv, page)
    edge = None if is_completed or not message_list else message_list[0 if direction == HOP_UP else -1]
    step = -1 if direction == HOP_UP else 1
    return {
        "messageList": message_list,
        "isCompleted": is_completed,
        "nextMessageSeq": edge["sequence"] + step if edge else 0,
        "nextMessageTime": edge["time"] if edge else 0,
    }


def find_message(user: User, conversation_id, message_id) -> dict:
    """findMessage, asked of the server: the message ``message_id`` of the conversation as
    ``user`` sees it, with its ``sequence`` to hop to (a reply's original that is not
    loaded). 10030 when the user may not read it: another conversation's, before their
    first visible sequence, hidden from them, or none; a group they are not in answers
    10007 (access_conversation). Queries: the conversation, the message, in a group its
    sender's name card: at most 3."""
    conv = access_conversation(user, conversation_id)
    if conv is None:
        raise ChatError(ErrorCode.MESSAGE_NOT_FOUND, "no such message")
    message = _readable(user, conv).filter(msg_id=message_id).select_related("sender", "revoker").first()
    if message is None:
        raise ChatError(ErrorCode.MESSAGE_NOT_FOUND, "no such message")
    return {"message": _as_seen_by(user, conv, [message])[0]}


MAX_ADMIN_PAGE = 20  # the vendor's group_msg_get_simple returns at most 20 messages a call


def get_group_history(group_id, *, req_msg_seq=None, count=MAX_ADMIN_PAGE) -> dict:
    """A group's history as the app admin sees it (the server API; the vendor's
    group_msg_get_simple): every stored message, targeted ones included, newest first
    from ``req_msg_seq`` down (the newest when None), at most ``MAX_ADMIN_PAGE``.
    ``nextReqMsgSeq`` is where the next page starts (0 when complete). 10010 for a group
    that does not exist or was dismissed. Three queries: the group, the page, the
    page's senders' name cards."""
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_ADMIN_PAGE:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, f"count must be from 1 to {MAX_ADMIN_PAGE}")
    if req_msg_seq is not None and (isinstance(req_msg_seq, bool) or not isinstance(req_msg_seq, int) or req_msg_seq < 1):
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "ReqMsgSeq must be a positive integer")
    group = access_group(group_id)
    messages = Message.objects.filter(thread_id=group.thread_id)
    if req_msg_seq is not None:
        messages = messages.filter(seq__lte=min(req_msg_seq, 2**62))
    page = list(messages.select_related("sender", "revoker").order_by("-seq")[: count + 1])
    is_completed = len(page) <= count
    page = page[:count]
    cards = name_cards((m.thread_id, m.sender_id) for m in page if m.sender_id)
    return {
        "messageList": [
            serialize.message_base(
                m, group.thread, sender=m.sender, to=group.group_id, name_card=cards.get((m.thread_id, m.sender_id), "")
            )
            for m in page
        ],
        "nextReqMsgSeq": 0 if is_completed else page[-1].seq - 1,
        "isCompleted": is_completed,
    }
