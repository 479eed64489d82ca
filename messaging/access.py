"""Permission checks as named functions: each returns the object or raises ChatError.

Every transport calls these; none checks permissions its own way.
"""

import functools
import uuid as uuid_lib
from dataclasses import dataclass

from django.db import connection
from django.db.models import F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from messaging import rawsql, rules, runtime
from messaging.compiled import CompiledQuery
from messaging.errors import ChatError, ErrorCode
from messaging.models import Block, Conversation, Friend, Group, GroupMember, Message, Thread, Upload, User


def parse_conversation_id(conversation_id) -> rules.ConversationTarget:
    """The conversation's kind and target (``rules.parse_conversation_id``), or 2503."""
    if not isinstance(conversation_id, str) or not conversation_id:
        raise ChatError(ErrorCode.INVALID_CONVERSATION_ID, "conversationID is required")
    target = rules.parse_conversation_id(conversation_id)
    if target is None:
        raise ChatError(ErrorCode.INVALID_CONVERSATION_ID, f"invalid conversationID {conversation_id!r}")
    return target


def access_user(user_id) -> User:
    if not isinstance(user_id, str) or not user_id:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "userID is required")
    try:
        return User.objects.get(username=user_id, is_active=True)
    except User.DoesNotExist:
        raise ChatError(ErrorCode.INVALID_USER_ID, f"user {user_id!r} does not exist") from None


def access_account(user_id) -> User:
    """The account ``user_id``, banned or not (a ban is undone on it), or 70107."""
    if not isinstance(user_id, str) or not user_id:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "userID is required")
    user = User.objects.filter(username=user_id).first()
    if user is None:
        raise ChatError(ErrorCode.ACCOUNT_DOES_NOT_EXIST, f"account {user_id!r} does not exist")
    return user


def access_c2c_peer(sender: User, user_id, *, by_admin=False, with_thread=False, resend_of=None) -> User:
    """The C2C peer ``sender`` may send to, or the SDK's refusal: 20003 no such user,
    20007 the peer has blocked the sender, 20009 not two-way friends while
    ``FRIENDSHIP_CHECK`` is on. The block and friendship checks ride on the peer lookup
    as EXISTS subqueries: still one query, so a C2C send costs what it did before
    (tests/test_write_queries.py). Blocking acts on C2C only: group messages are not
    checked (the SDK's behaviour). ``by_admin`` (the server API's send, TIM.md §9
    openim/sendmsg) skips the block and friendship checks: only 20003 remains.
    ``with_thread`` (the send) also gives the pair's C2C thread as ``peer.c2c_thread_id``
    (None before their first message), in the same query: the send looks nothing up twice.
    ``resend_of`` (a send's client message ID) also tells, as ``peer.resent``, whether the
    sender already stored a message with that ID (``resent_sql``)."""
    if not isinstance(user_id, str) or not user_id:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "userID is required")
    check_friends = not by_admin and runtime.get("FRIENDSHIP_CHECK")
    sql, roles, extras = _peer_sql(not by_admin, check_friends, with_thread, resend_of is not None)
    values = {"sender": sender.pk, "sender_text": str(sender.pk), "user_id": user_id, "msg_id": resend_of}
    found = rawsql.fetch_one(sql, [values[role] for role in roles], PEER_COLUMNS)
    if found is None:
        raise ChatError(ErrorCode.INVALID_USER_ID, f"user {user_id!r} does not exist")
    peer, *extra_values = found
    for name, value in zip(extras, extra_values, strict=True):
        setattr(peer, name, value)
    if peer.pk != sender.pk and not by_admin:
        if peer.blocked_sender:
            raise ChatError(ErrorCode.IN_PEER_BLACKLIST, f"{user_id} has blocked you: your message was not sent")
        if check_friends and not (peer.has_sender and peer.is_senders):
            raise ChatError(ErrorCode.NOT_FRIENDS, f"you and {user_id} are not friends: only friends can message each other")
    return peer


PEER_COLUMNS = rawsql.Columns(User, "u")


@functools.cache
def _peer_sql(check_block: bool, check_friends: bool, with_thread: bool, with_resend: bool = False) -> tuple[str, tuple, tuple]:
    """The SQL of ``access_c2c_peer``'s one query, written once per variant; what each of
    its parameters is ("sender": the sender's pk, "sender_text": the same as text,
    "user_id": the peer's userID, "msg_id": the send's client message ID); and the names
    of the values after the user's columns.

    Raw SQL because building and compiling the same ORM query (the EXISTS subqueries
    and the thread's key) took about a quarter of a loaded Daphne's GIL time, more
    than running it (docs/PERFORMANCE.md, 2026-12-03)."""
    qn = connection.ops.quote_name
    user, block, friend, thread = (model._meta.db_table for model in (User, Block, Friend, Thread))
    columns, roles, extras = [PEER_COLUMNS.sql()], [], []
    if check_block:
        columns.append(f"EXISTS (SELECT 1 FROM {block} b WHERE b.owner_id = u.id AND b.blocked_id = %s)")
        roles.append("sender")
        extras.append("blocked_sender")
    if check_friends:
        columns.append(f"EXISTS (SELECT 1 FROM {friend} f WHERE f.owner_id = u.id AND f.friend_id = %s)")
        columns.append(f"EXISTS (SELECT 1 FROM {friend} f WHERE f.owner_id = %s AND f.friend_id = u.id)")
        roles += ["sender", "sender"]
        extras += ["has_sender", "is_senders"]
    if with_thread:
        # The pair's thread by its key (``Thread.c2c_key``: low pk first; the unique index).
        key = "CASE WHEN u.id < %s THEN 'c2c:' || u.id || ':' || %s ELSE 'c2c:' || %s || ':' || u.id END"
        columns.append(f"(SELECT t.id FROM {thread} t WHERE t.key = ({key}))")
        roles += ["sender", "sender_text", "sender_text"]
        extras.append("c2c_thread_id")
    if with_resend:
        columns.append(resent_sql())
        roles += ["sender", "msg_id"]
        extras.append("resent")
    roles.append("user_id")
    sql = f"SELECT {', '.join(columns)} FROM {qn(user)} u WHERE u.username = %s AND u.is_active"
    return sql, tuple(roles), tuple(extras)


def friend_remark_subquery():
    """The viewer's remark for the C2C peer ('' when none): the conversation's ``remark``."""
    remarks = Friend.objects.filter(owner=OuterRef("user"), friend=OuterRef("peer")).values("remark")[:1]
    return Coalesce(Subquery(remarks), Value(""))


def access_group(group_id, *, for_update=False) -> Group:
    """The group, or 10010 when there is none or it was dismissed."""
    if not isinstance(group_id, str) or not group_id:
        raise ChatError(ErrorCode.BAD_GROUP_ID, "groupID is required")
    queryset = Group.objects.select_related("owner", "thread")
    if for_update:
        queryset = Group.objects.select_for_update()
    try:
        return queryset.get(group_id=group_id, dismissed_at__isnull=True)
    except Group.DoesNotExist:
        raise ChatError(ErrorCode.GROUP_NOT_FOUND, f"group {group_id!r} does not exist") from None


def access_membership(user: User, group: Group) -> GroupMember:
    """The user's membership of ``group``, or 10007: a non-member may do nothing in it."""
    try:
        return GroupMember.objects.get(group=group, user=user)
    except GroupMember.DoesNotExist:
        raise ChatError(ErrorCode.PERMISSION_DENIED, f"you are not a member of group {group.group_id!r}") from None


def access_group_membership(user: User, group_id, *, resend_of=None) -> tuple[Group, GroupMember]:
    """``access_group`` and ``access_membership`` in one query (the group, owner and thread
    selected through the membership): the group and the user's membership, or 10010 /
    10007 as they answer (a second query tells which, only when refusing). ``resend_of``
    (a send's client message ID) also tells, as ``membership.resent``, whether the user
    already stored a message with that ID (``resent_sql``; None: not known)."""
    if not isinstance(group_id, str) or not group_id:
        raise ChatError(ErrorCode.BAD_GROUP_ID, "groupID is required")
    if resend_of is None:
        found = rawsql.fetch_one(MEMBERSHIP_SQL, [group_id, user.pk], *MEMBERSHIP_COLUMNS)
    else:
        found = rawsql.fetch_one(MEMBERSHIP_RESENT_SQL, [user.pk, resend_of, group_id, user.pk], *MEMBERSHIP_COLUMNS)
    membership = None
    if found is not None:
        membership, group, owner, thread, *resent = found
        group.owner, group.thread, membership.group = owner, thread, group
        membership.resent = resent[0] if resent else None
    if membership is None:  # 10010 or 10007 (a membership made just now is taken)
        group = access_group(group_id)
        membership = access_membership(user, group)
        membership.group, membership.resent = group, None
    return membership.group, membership


def resent_sql() -> str:
    """Whether the sender (the first parameter) already stored a message with this client
    ID (the second): a send's resend check, riding on the send's first read so that a
    send with an ID (``tim.js`` gives every message one) costs no query more than one
    without. The unique index (sender, msg_id) answers it."""
    return f"EXISTS (SELECT 1 FROM {Message._meta.db_table} s WHERE s.sender_id = %s AND s.msg_id = %s)"


# The membership, its group, the group's owner (NULL when none) and thread: the ORM's
# select_related("group__owner", "group__thread"), written once (messaging/rawsql.py).
MEMBERSHIP_COLUMNS = (
    rawsql.Columns(GroupMember, "m"),
    rawsql.Columns(Group, "g"),
    rawsql.Columns(User, "o"),
    rawsql.Columns(Thread, "t"),
)
MEMBERSHIP_FROM = (
    f" FROM {GroupMember._meta.db_table} m JOIN {Group._meta.db_table} g ON g.id = m.group_id"
    f" LEFT JOIN {User._meta.db_table} o ON o.id = g.owner_id JOIN {Thread._meta.db_table} t ON t.id = g.thread_id"
    " WHERE g.group_id = %s AND g.dismissed_at IS NULL AND m.user_id = %s"
)
MEMBERSHIP_SQL = f"SELECT {', '.join(part.sql() for part in MEMBERSHIP_COLUMNS)}{MEMBERSHIP_FROM}"
MEMBERSHIP_RESENT_SQL = f"SELECT {', '.join(part.sql() for part in MEMBERSHIP_COLUMNS)}, {resent_sql()}{MEMBERSHIP_FROM}"


def check_may_send(member: GroupMember, group: Group):
    now = timezone.now()
    if member.muted_until and member.muted_until > now:
        raise ChatError(ErrorCode.MUTED_IN_GROUP, "you are muted in this group")
    if group.mute_all and member.role == GroupMember.Role.MEMBER:
        raise ChatError(ErrorCode.MUTED_IN_GROUP, "all members are muted in this group")


def peer_read_seq_subquery():
    """The C2C peer's read cursor on the same thread (NULL for groups)."""
    peer_rows = Conversation.objects.filter(thread=OuterRef("thread"), user=OuterRef("peer")).values("last_read_seq")[:1]
    return Coalesce(Subquery(peer_rows), Value(0))


def access_conversation(user: User, conversation_id) -> Conversation | None:
    """The user's conversation row (thread, peer, group selected), with the peer's read cursor.

    Returns None for a C2C conversation with an existing user that has no message
    yet (it exists for the SDK, empty). Raises for a group the user is not in.
    One query when the row exists.
    """
    target = parse_conversation_id(conversation_id)
    rows = CONVERSATION_ROW.list(user.pk, conversation_id)  # at most one: (user, conversation_id) is unique
    if rows:
        return rows[0]
    if target.kind == Thread.Kind.C2C:
        access_user(target.target)
        return None
    if target.kind == Thread.Kind.GROUP:
        access_group(target.target)
        raise ChatError(ErrorCode.PERMISSION_DENIED, f"you are not a member of group {target.target!r}")
    return None


# Compiled once (messaging/compiled.py): nearly every op on a conversation reads it, and
# building it was half of a getMessageList's CPU (docs/PERFORMANCE.md, "a restart's dead time").
CONVERSATION_ROW = CompiledQuery(
    lambda user_id, conversation_id: (
        Conversation.objects.select_related("thread", "peer", "group__owner", "group__thread")
        .annotate(peer_read_seq=peer_read_seq_subquery(), friend_remark=friend_remark_subquery())
        .filter(user_id=user_id, conversation_id=conversation_id)
    ),
    int,
    str,
)


@dataclass(frozen=True)
class ConversationState:
    """The few columns of a user's conversation row that a hot path needs."""

    pk: int
    thread_id: int
    kind: str
    min_seq: int
    receipt_seq: int
    peer_id: int | None
    group_id: str | None  # the groupID of a group conversation


def access_conversation_state(user: User, conversation_id) -> ConversationState | None:
    """``access_conversation``'s check and answers (None, or its errors), with only the
    row's state columns: one light query (no profiles, no peer cursor), for ops that run
    by the thousand at once, such as read receipts in a large group."""
    parse_conversation_id(conversation_id)
    row = (
        Conversation.objects.filter(user=user, conversation_id=conversation_id)
        .values_list("pk", "thread_id", "thread__kind", "min_seq", "receipt_seq", "peer_id", "group__group_id")
        .first()
    )
    if row is not None:
        return ConversationState(*row)
    access_conversation(user, conversation_id)  # raises as it does; None for an empty C2C
    return None


def access_own_conversations(user: User, conversation_ids, *, for_update=False):
    """The rows of ``user``'s conversations among ``conversation_ids`` (one query), in the
    list's order, and a failure entry ``{conversationID, code, message}`` for each of the
    others (2500: not one of the user's conversations, whoever else has it). A malformed
    ID raises 2503 before anything is read. For the ops on a list of conversations
    (markConversation, the conversation-group ops), which answer per conversation."""
    ids = list(dict.fromkeys(conversation_ids))
    for conversation_id in ids:
        parse_conversation_id(conversation_id)
    queryset = Conversation.objects.filter(user=user, conversation_id__in=ids).order_by("pk")
    if for_update:
        queryset = queryset.select_for_update()
    by_id = {conv.conversation_id: conv for conv in queryset.only("pk", "conversation_id", "marks", "group_names")}
    rows = [by_id[conversation_id] for conversation_id in ids if conversation_id in by_id]
    failures = [
        {"conversationID": conversation_id, "code": int(ErrorCode.CONVERSATION_NOT_FOUND), "message": "conversation not found"}
        for conversation_id in ids
        if conversation_id not in by_id
    ]
    return rows, failures


def access_conversation_for_deletion(user: User, conversation_id) -> Conversation | None:
    """The user's conversation in which they may delete messages for themselves
    (deleteMessage, clearHistoryMessage): any conversation of theirs but an AVChatRoom's
    (10035, as the SDK) and the system conversation (2116: "group system notices cannot be
    deleted"). None for a C2C conversation with no message yet; a group the user is not in
    raises as ``access_conversation`` does."""
    conv = access_conversation(user, conversation_id)
    if conv is not None and conv.thread.kind == Thread.Kind.SYSTEM:
        raise ChatError(ErrorCode.SYSTEM_NOTICE_NOT_DELETABLE, "system notices cannot be deleted")
    if conv is not None and conv.group_id and conv.group.type == Group.Type.AVCHATROOM:
        raise ChatError(ErrorCode.AVCHATROOM_NOT_DELETABLE, "messages of an AVChatRoom cannot be deleted")
    return conv


def access_message(user: User, conversation_id, message_id) -> Message:
    """A message of a conversation ``user`` may see (sender selected), or 10030: from their
    ``min_seq`` on, and a targeted message only as its sender or a receiver."""
    conv = access_conversation(user, conversation_id)
    if conv is None or not isinstance(message_id, str) or not message_id:
        raise ChatError(ErrorCode.MESSAGE_NOT_FOUND, "no such message")
    message = (
        Message.objects.visible_to(user)
        .select_related("sender")
        .filter(thread_id=conv.thread_id, msg_id=message_id, seq__gte=conv.first_seq)
        .first()
    )
    if message is None:
        raise ChatError(ErrorCode.MESSAGE_NOT_FOUND, "no such message")
    return message


def access_upload_for_download(user: User, upload_uuid) -> Upload | None:
    """The ready upload if ``user`` may download it, else None.

    Its owner may; so may every member of a conversation holding a message that
    refers to it (its own message, a forward or a merged message), from the first
    message that member may see. A recalled message gives no access (its owner keeps
    theirs), nor does a targeted message to others. Staff with the ``view_upload``
    permission (the Moderators group) may download every ready file: the admin shows
    attachments, recalled ones included, to the people who moderate them. A file
    deleted by a moderator is no longer ready: nobody gets it. Two queries at most
    (plus the staff user's permissions, once per request).
    """
    try:
        key = uuid_lib.UUID(str(upload_uuid))
    except ValueError:
        return None
    upload = Upload.objects.filter(uuid=key, status=Upload.Status.READY).first()
    if upload is None:
        return None
    if upload.owner_id == user.pk:
        return upload
    if user.is_staff and user.has_perm(VIEW_UPLOAD_PERMISSION):
        return upload
    visible = (
        Message.objects.visible_to(user)
        .filter(
            attachments=upload,
            is_revoked=False,
            thread__conversations__user=user,
            seq__gte=F("thread__conversations__min_seq"),
            seq__gt=F("thread__conversations__cleared_seq"),
        )
        .exists()
    )
    return upload if visible else None


def own_unsent_uploads(user: User):
    """``user``'s own uploads that no message refers to (pending, failed, or ready and
    never sent), as a queryset: what is theirs alone, which deleting the account
    removes (actions.delete_account)."""
    return Upload.objects.filter(owner=user, messages__isnull=True)


def own_sent_uploads(user: User):
    """``user``'s own ready uploads that a message of theirs still shows (not recalled), as
    a queryset: their files in their data export. Not a file of someone else's that they
    forwarded, nor one left only in recalled messages."""
    return Upload.objects.filter(owner=user, messages__sender=user, messages__is_revoked=False, status=Upload.Status.READY)


# The Django permissions of moderation (the Moderators group holds them:
# actions/moderation.py MODERATOR_PERMISSIONS).
MODERATE_MESSAGE_PERMISSION = "messaging.moderate_message"
VIEW_UPLOAD_PERMISSION = "messaging.view_upload"
VIEW_MESSAGE_PERMISSION = "messaging.view_message"
CHANGE_USER_PERMISSION = "messaging.change_user"


def access_moderation(moderator: User, permission: str) -> User:
    """``moderator`` if they are active staff holding the Django ``permission`` (a
    superuser holds every one), else 10007. The moderation actions check it themselves,
    so a transport that forgets (the admin, the REST API, a report's resolution) still
    cannot act for someone without it."""
    if moderator is None or not moderator.is_active or not moderator.is_staff or not moderator.has_perm(permission):
        raise ChatError(ErrorCode.PERMISSION_DENIED, f"moderators only (the {permission} permission)")
    return moderator


def access_moderated_user(moderator: User, target: User) -> User:
    """``target`` if ``moderator`` may ban, unban, reset the password of or edit the
    profile of that account: a moderator with ``change_user`` may act on chat users; a
    staff or superuser account only a superuser may touch (a moderator who could reset an
    administrator's password could become one). 10007 otherwise."""
    access_moderation(moderator, CHANGE_USER_PERMISSION)
    if (target.is_staff or target.is_superuser) and not moderator.is_superuser:
        raise ChatError(ErrorCode.PERMISSION_DENIED, f"only a superuser may change the staff account {target.username!r}")
    return target


def access_own_upload(user: User, upload_uuid, *, kind=None) -> Upload:
    """An upload of ``user``'s own (of ``kind``, when given), or 2403: no such upload of yours.

    The one ownership check of uploads: receiving bytes, completing, and naming an
    upload in a message all go through it, so a user can never send, complete or
    write to another user's upload. Whether the upload is ready is the caller's
    rule (each message type answers its own code). One query.
    """
    uploads = Upload.objects.filter(owner=user) if kind is None else Upload.objects.filter(owner=user, kind=kind)
    try:
        return uploads.get(uuid=uuid_lib.UUID(str(upload_uuid)))
    except (ValueError, Upload.DoesNotExist):
        what = "such upload" if kind is None else f"{kind} upload {upload_uuid!r}"
        raise ChatError(ErrorCode.UPLOAD_NOT_FOUND, f"no {what} of yours") from None
