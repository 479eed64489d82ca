"""getConversationList, getConversationProfile, getTotalUnreadMessageCount: one query each."""

from django.db.models import Sum

from messaging import conf, serialize
from messaging.access import access_conversation, parse_conversation_id, peer_read_seq_subquery
from messaging.errors import ChatError, ErrorCode
from messaging.models import Conversation, Thread, User

SELECTED = ("peer", "group__owner", "group__thread", "last_message__sender")


def get_conversation_list(user: User) -> list:
    """Up to 100 visible conversations: pinned first, then the most recent."""
    rows = (
        Conversation.objects.filter(user=user, is_hidden=False)
        .select_related(*SELECTED)
        .annotate(peer_read_seq=peer_read_seq_subquery())
        .order_by("-is_pinned", "-last_time", "-pk")[: conf.get("CONVERSATION_LIST_LIMIT")]
    )
    return [serialize.conversation(c, user, peer_read_seq=c.peer_read_seq) for c in rows]


def get_conversation_profile(user: User, conversation_id) -> dict:
    """The conversation; for a C2C peer with no message yet, an empty one (as the SDK makes)."""
    target = parse_conversation_id(conversation_id)
    if target.kind == Thread.Kind.SYSTEM:
        raise ChatError(ErrorCode.CONVERSATION_NOT_FOUND, "the system conversation is empty")
    conv = access_conversation(user, conversation_id)
    if conv is None:
        peer = User.objects.get(username=target.target)
        return {
            "conversationID": conversation_id,
            "type": Thread.Kind.C2C,
            "subType": "",
            "unreadCount": 0,
            "lastMessage": {},
            "groupAtInfoList": [],
            "remark": "",
            "isPinned": False,
            "messageRemindType": "AcceptAndNotify",
            "peerReadSequence": 0,
            "userProfile": serialize.user_profile(peer),
            "groupProfile": None,
        }
    if conv.last_message_id:
        conv = Conversation.objects.select_related(*SELECTED).annotate(peer_read_seq=peer_read_seq_subquery()).get(pk=conv.pk)
    return serialize.conversation(conv, user, peer_read_seq=conv.peer_read_seq)


def get_total_unread_count(user: User) -> int:
    """C2C plus group unread over visible conversations (Meeting groups never count)."""
    total = Conversation.objects.filter(user=user, is_hidden=False).aggregate(total=Sum("unread_count"))["total"]
    return total or 0


def get_unread_map(user: User) -> dict:
    """conversationID -> unread count, for every conversation with unread messages."""
    return dict(
        Conversation.objects.filter(user=user, is_hidden=False, unread_count__gt=0).values_list("conversation_id", "unread_count")
    )
