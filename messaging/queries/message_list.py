"""getMessageList: keyset pagination on the thread's ``seq``, newest page first.

Every read here goes through ``Message.objects.visible_to(user)``: a targeted group
message is in its sender's and receivers' history only (a viewer's ``sequence``s may
then have holes).

Queries: the conversation (with the peer's read cursor), the cursor message when
``nextReqMessageID`` is given, one page of messages, and in a group the page's
senders' name cards: at most 4, never OFFSET.
"""

from messaging import conf, serialize
from messaging.access import access_conversation
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
