"""getConversationList, getConversationProfile, getTotalUnreadMessageCount.

getConversationList is one query for the rows plus one for the mentions
(groupAtInfoList) of its group conversations; the other reads are one query.
"""

from django.db import connection
from django.db.models import F, Lookup, OuterRef, Q, Subquery, Sum

from messaging import conf, rules, serialize
from messaging.access import access_conversation, friend_remark_subquery, parse_conversation_id, peer_read_seq_subquery
from messaging.compiled import CompiledQuery
from messaging.errors import ChatError, ErrorCode
from messaging.models import Conversation, Friend, GroupAtMention, Thread, User
from messaging.queries import joins_in_written_order

SELECTED = ("thread", "peer", "group__owner", "group__thread", "last_message__sender", "last_message__revoker")


LIST_ORDER = ("-is_pinned", "-last_time", "-pk")


class AmongArray(Lookup):
    """``lhs = ANY(ARRAY(subquery))`` (PostgreSQL): the subquery is run once, as an
    InitPlan, and the outer table is read by its index for the values it gave."""

    lookup_name = "among_array"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = compiler.compile(self.rhs)
        return f"{lhs} = ANY(ARRAY{rhs})", (*lhs_params, *rhs_params)


def _list_rows(user_id, limit):
    """The first ``limit`` visible rows, chosen from the user's rows alone (no index orders
    them: a send's UPDATE of the rows stays HOT, migration 0027), then joined: the joins
    and subqueries run for those rows only, not for every conversation the user has."""
    first = Conversation.objects.filter(user_id=user_id, is_hidden=False).order_by(*LIST_ORDER).values("pk")[:limit]
    # On PostgreSQL = ANY(ARRAY(...)): run once, before the joins. An IN (...) would be a
    # semi join after all of them (they are joined in written order: joins_in_written_order).
    among = AmongArray(F("pk"), Subquery(first)) if connection.vendor == "postgresql" else Q(pk__in=first)
    return (
        Conversation.objects.filter(among)
        .select_related(*SELECTED)
        .annotate(peer_read_seq=peer_read_seq_subquery(), friend_remark=friend_remark_subquery())
        .order_by(*LIST_ORDER)
    )


# Compiled once (messaging/compiled.py): every reconnecting client reads it in its sync.
LIST_ROWS = CompiledQuery(_list_rows, int)


def get_conversation_list(user: User) -> list:
    """Up to 100 visible conversations: pinned first, then the most recent."""
    with joins_in_written_order():
        rows = LIST_ROWS.list(user.pk, shape=(conf.get("CONVERSATION_LIST_LIMIT"),))
    at_info = group_at_info(user, [c for c in rows if c.group_id])
    return [
        serialize.conversation(c, user, peer_read_seq=c.peer_read_seq, group_at_info=at_info.get(c.thread_id, [])) for c in rows
    ]


def group_at_info(user: User, group_conversations) -> dict:
    """thread id -> groupAtInfoList: unread mentions of ``user`` or of everyone. One query."""
    if not group_conversations:
        return {}
    cursors = {c.thread_id: c.last_read_seq for c in group_conversations}
    mentions = (
        GroupAtMention.objects.filter(thread_id__in=cursors, seq__gt=min(cursors.values()))
        .filter(Q(user=user) | Q(user__isnull=True))
        .exclude(message__sender=user)
        .exclude(message__deletions__user=user)  # an @all in a message deleted for the user
        .values_list("thread_id", "seq", "user_id", "message__msg_id")
        .order_by("seq")
    )
    by_message = {}
    for thread_id, seq, user_id, msg_id in mentions:
        if seq <= cursors[thread_id]:
            continue
        at_type = rules.AT_ME if user_id else rules.AT_ALL_TYPE
        key = (thread_id, seq)
        if key in by_message:
            at_type |= by_message[key]["atType"]  # @me and @all: CONV_AT_ALL_AT_ME (3)
        by_message[key] = {"messageID": msg_id, "messageSequence": seq, "atType": at_type}
    result = {}
    for (thread_id, _), info in by_message.items():
        result.setdefault(thread_id, []).append(info)
    return result


def get_conversation_profile(user: User, conversation_id) -> dict:
    """The conversation; for a C2C peer with no message yet, an empty one (as the SDK makes)."""
    target = parse_conversation_id(conversation_id)
    conv = access_conversation(user, conversation_id)
    if conv is None and target.kind == Thread.Kind.SYSTEM:
        # The system conversation exists from the user's first notice on.
        raise ChatError(ErrorCode.CONVERSATION_NOT_FOUND, "the system conversation is empty")
    if conv is None:
        remark = Friend.objects.filter(owner=user, friend=OuterRef("pk")).values("remark")[:1]
        peer = User.objects.annotate(friend_remark=Subquery(remark)).get(username=target.target)
        return {
            "conversationID": conversation_id,
            "type": Thread.Kind.C2C,
            "subType": "",
            "unreadCount": 0,
            "lastMessage": {},
            "groupAtInfoList": [],
            "remark": peer.friend_remark or "",
            "isPinned": False,
            "messageRemindType": rules.REMIND_ACCEPT_AND_NOTIFY,
            "draftText": "",
            "markList": [],
            "conversationGroupList": [],
            "peerReadSequence": 0,
            "syncCursor": 0,
            "userProfile": serialize.user_profile(peer),
            "groupProfile": None,
        }
    if conv.last_message_id:
        conv = (
            Conversation.objects.select_related(*SELECTED)
            .annotate(peer_read_seq=peer_read_seq_subquery(), friend_remark=friend_remark_subquery())
            .get(pk=conv.pk)
        )
    at_info = group_at_info(user, [conv] if conv.group_id else [])
    return serialize.conversation(conv, user, peer_read_seq=conv.peer_read_seq, group_at_info=at_info.get(conv.thread_id, []))


def get_total_unread_count(user: User) -> int:
    """C2C plus group unread over visible conversations (Meeting groups never count). The
    system conversation keeps its own count and is left out, and so are the conversations
    whose notifications the user muted (``messageRemindType`` other than AcceptAndNotify:
    the vendor's total "subtracts do-not-disturb conversations", TIM.md §4.2)."""
    total = (
        Conversation.objects.filter(user=user, is_hidden=False, remind_type=rules.REMIND_ACCEPT_AND_NOTIFY)
        .exclude(conversation_id=rules.SYSTEM_CONVERSATION_ID)
        .aggregate(total=Sum("unread_count"))["total"]
    )
    return total or 0


def get_unread_map(user: User) -> dict:
    """conversationID -> unread count, for every conversation with unread messages but the
    system conversation (a muted conversation is listed, though outside the total)."""
    return dict(
        Conversation.objects.filter(user=user, is_hidden=False, unread_count__gt=0)
        .exclude(conversation_id=rules.SYSTEM_CONVERSATION_ID)
        .values_list("conversation_id", "unread_count")
    )


# Compiled once (messaging/compiled.py): every socket reads it when it opens.
UNREAD_ROWS = CompiledQuery(
    lambda user_id: (
        Conversation.objects.filter(user_id=user_id)
        .filter(Q(is_hidden=False, unread_count__gt=0) | ~Q(remind_type=rules.REMIND_ACCEPT_AND_NOTIFY))
        .exclude(conversation_id=rules.SYSTEM_CONVERSATION_ID)
        .values_list("conversation_id", "unread_count", "is_hidden", "remind_type")
    ),
    int,
)


def get_unread_state(user: User) -> tuple[dict, set]:
    """What a socket counts from: (conversationID -> unread count of every visible
    conversation with unread messages, the IDs of the user's muted conversations, hidden
    ones included since a message unhides them). One query; the system conversation is in
    neither."""
    return unread_state(UNREAD_ROWS.list(user.pk))


def unread_state(rows) -> tuple[dict, set]:
    """``get_unread_state`` from the user's conversation rows, as
    ``(conversationID, unread count, hidden?, remind type)`` (sync reads them anyway)."""
    unread, muted = {}, set()
    for conversation_id, count, hidden, remind_type in rows:
        if conversation_id == rules.SYSTEM_CONVERSATION_ID:
            continue
        if count > 0 and not hidden:
            unread[conversation_id] = count
        if remind_type != rules.REMIND_ACCEPT_AND_NOTIFY:
            muted.add(conversation_id)
    return unread, muted
