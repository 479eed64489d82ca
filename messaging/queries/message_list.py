"""getMessageList: keyset pagination on the thread's ``seq``, newest page first.

Every read here goes through ``Message.objects.visible_to(user)``: a targeted group
message is in its sender's and receivers' history only (a viewer's ``sequence``s may
then have holes).

Queries: the conversation (with the peer's read cursor), the cursor message when
``nextReqMessageID`` is given, one page of messages, and in a group the page's
senders' name cards: at most 4, never OFFSET.
"""

from messaging import conf, serialize
from messaging.access import access_conversation, access_group
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
    messages = Message.objects.visible_to(user).filter(thread_id=conv.thread_id, seq__gte=conv.min_seq)
    if next_req_message_id:
        if not isinstance(next_req_message_id, str):
            raise ChatError(ErrorCode.INVALID_PARAMETERS, "nextReqMessageID must be a string")
        cursor = (
            Message.objects.visible_to(user)
            .filter(thread_id=conv.thread_id, msg_id=next_req_message_id)
            .values_list("seq", flat=True)
            .first()
        )
        if cursor is None:
            raise ChatError(ErrorCode.INVALID_PARAMETERS, f"nextReqMessageID {next_req_message_id!r} is not in this conversation")
        messages = messages.filter(seq__lt=cursor)
    page = list(messages.select_related("sender", "revoker").order_by("-seq")[: count + 1])
    is_completed = len(page) <= count
    page = page[:count]
    page.reverse()
    thread = conv.thread
    cards = {}
    if thread.kind == Thread.Kind.GROUP:
        to_for = lambda m: conv.group.group_id  # noqa: E731
        cards = name_cards((m.thread_id, m.sender_id) for m in page if m.sender_id)
    else:
        to_for = lambda m: conv.peer.username if m.sender_id == user.pk else user.username  # noqa: E731
    message_list = [
        serialize.for_viewer(
            serialize.message_base(m, thread, sender=m.sender, to=to_for(m), name_card=cards.get((m.thread_id, m.sender_id), "")),
            user.username,
            peer_read_seq=conv.peer_read_seq,
        )
        for m in page
    ]
    return {
        "messageList": message_list,
        "nextReqMessageID": message_list[0]["ID"] if message_list and not is_completed else "",
        "isCompleted": is_completed,
    }


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
