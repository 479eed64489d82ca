"""Recalling a message: revokeMessage (shared/spec/TIM.md §5.3).

Who may recall (docs/PROTOCOL.md §5, revokeMessage):

- the sender, within ``REVOKE_WINDOW`` seconds of sending (after it: 20016 in C2C,
  10031 in a group);
- in a group, its owner any member's or admin's message, and an admin an ordinary
  member's message (or that of someone who has left), at any time; the app admin
  (``by_admin``: the Django admin, the server API) any message of any group at any
  time, and any C2C message at any time, named from one party's side (``viewer``); a
  moderator recalls any message by its row, audited:
  ``message_moderation.recall_message_as_moderator``;
- nobody else: someone else's C2C message, or a group message without the role, is
  10007 (the SDK has no dedicated code for "not yours"; 10007 is its "no permission").
  Group tips and system notices are 10032. A message the user cannot see is 10030.

A recall is, in one transaction: the message row locked and marked (``is_revoked``,
``revoker``, ``revoked_at``, and the thread's next change number: ``sync`` returns it
to whoever missed the event; its content stays in the row for moderation, serialize
never sends it again), its mentions deleted, and one UPDATE ... RETURNING over the
thread's conversation rows that takes back the unread count of everyone who counted
it (whose read cursor is before it) and returns every viewer's absolute count. O(1)
statements for a group of any size. Recalling a recalled message returns it again and
publishes nothing.

A targeted message's viewers are its sender and receivers (``Message.visible_to``): only
their rows are updated, and the other members get the recall's change number alone.

After commit, MESSAGE_REVOKED goes to every socket of every viewer except the tab that
asked (as with sendMessage: the vendor's SDK resolves the revoker's own promise and
fires the event on the other instances); that tab gets the conversation patch.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from messaging import rules, runtime, serialize
from messaging.access import access_conversation, access_group, parse_conversation_id
from messaging.actions.message_send import publish_change_to_others
from messaging.actions.moderation import record_audit
from messaging.errors import ChatError, ErrorCode
from messaging.events import publish_on_commit
from messaging.models import GroupAtMention, GroupMember, Message, Thread, User

NOT_REVOCABLE = frozenset({rules.GROUP_TIP, rules.GROUP_SYSTEM_NOTICE})


@dataclass(frozen=True)
class RevokedMessage:
    """The recalled row and its viewer-independent SDK Message (``serialize.message_base``)."""

    message: Message
    data: dict
    # C2C: the receiver's read cursor, for the sender's view (``isPeerRead``); 0 in groups.
    peer_read_seq: int = 0
    # False when it was recalled already (nothing written, nothing published).
    changed: bool = True


def revoke_message(
    user: User, conversation_id, message_id, *, by_admin=False, viewer: User | None = None, origin=None, audit=None
) -> RevokedMessage:
    """Recall ``message_id`` of ``conversation_id`` as ``user`` (see the module's rules).

    ``viewer`` (with ``by_admin`` only): whose conversation ``conversation_id`` is, when
    the app admin recalls a C2C message between two other users (``C2C<b>`` seen by
    ``a``); ``user`` is still the revoker. ``audit`` (a dict of details, e.g. the server
    API's token): the recall is written to the audit log in its transaction, as ``user``'s."""
    if viewer is not None and not by_admin:
        raise ValueError("viewer is for the app admin only")
    viewer = viewer or user
    thread, group, min_seq, to, peer_read_seq = _thread_of(viewer, conversation_id, by_admin=by_admin)
    if not isinstance(message_id, str) or not message_id:
        raise ChatError(ErrorCode.MESSAGE_NOT_FOUND, "no such message")
    with transaction.atomic():
        messages = Message.objects if by_admin else Message.objects.visible_to(user)
        message = (
            # Not the revoker with it: on PostgreSQL a row another recall changed while
            # this one waited for the lock comes back with the joins of its old version.
            messages.select_for_update(of=("self",))
            .select_related("sender")
            .filter(thread_id=thread.pk, msg_id=message_id, seq__gte=min_seq)
            .first()
        )
        if message is None:
            raise ChatError(ErrorCode.MESSAGE_NOT_FOUND, "no such message")
        if message.type in NOT_REVOCABLE or message.sender_id is None:
            raise ChatError(ErrorCode.MESSAGE_NOT_REVOCABLE, "group tips and notices cannot be recalled")
        now = timezone.now()
        check_may_revoke(user, message, group, by_admin=by_admin, now=now)
        if thread.kind == Thread.Kind.C2C:
            to = _c2c_receiver(viewer, message, to)
        if message.is_revoked:
            base = serialize.message_base(message, thread, sender=message.sender, to=to)
            return RevokedMessage(message, base, peer_read_seq, changed=False)
        if audit is not None:
            record_audit(user, "recall_message", "message", message.msg_id, details={"thread": thread.key, **audit})
        return revoke_locked(user, message, thread, group, to, now=now, origin=origin)


def revoke_locked(user: User, message: Message, thread: Thread, group, to, *, now, origin=None) -> RevokedMessage:
    """Mark the locked, not yet recalled ``message`` recalled by ``user`` (its thread's next
    change number, mentions, every viewer's unread count) and publish MESSAGE_REVOKED after
    commit. The caller holds the transaction and has checked the permission; ``to`` is the
    receiver's userID (C2C) or the groupID."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE messaging_thread SET last_change = last_change + 1 WHERE id = %s RETURNING last_change", [thread.pk]
        )
        (change,) = cursor.fetchone()
    Message.objects.filter(pk=message.pk).update(is_revoked=True, revoker=user, revoked_at=now, change=change)
    message.is_revoked, message.revoker, message.revoked_at, message.change = True, user, now, change
    had_mentions = bool(message.at_user_list)
    if had_mentions:
        GroupAtMention.objects.filter(message_id=message.pk).delete()
    counted = (group.counts_unread if group is not None else True) and not (
        message.excluded_from_unread_count or message.is_targeted
    )
    where, params = viewers_clause(thread, message)
    with connection.cursor() as cursor:
        cursor.execute(
            # Not for a viewer who deleted it for themselves: it left their count then.
            "UPDATE messaging_conversation SET unread_count = unread_count - CASE WHEN"
            " %s AND user_id <> %s AND last_read_seq < %s AND unread_count > 0 AND NOT EXISTS"
            " (SELECT 1 FROM messaging_messagedeletion d WHERE d.message_id = %s AND d.user_id = messaging_conversation.user_id)"
            " THEN 1 ELSE 0 END"
            f" WHERE {where} RETURNING user_id, unread_count, last_message_id, is_hidden, last_read_seq",
            [counted, message.sender_id, message.seq, message.pk, *params],
        )
        viewers = cursor.fetchall()
    peer_read_seq = 0
    if thread.kind == Thread.Kind.C2C:
        # The receiver's cursor, read under the thread's conversation rows just updated.
        peer_read_seq = max((cursor for pk, *_, cursor in viewers if pk != message.sender_id), default=0)
    base = serialize.message_base(message, thread, sender=message.sender, to=to)
    meta = {
        "counts": {str(pk): unread for pk, unread, *_ in viewers},
        "last": [str(pk) for pk, _, last_id, hidden, _ in viewers if last_id == message.pk and not hidden],
        "mentions": had_mentions,
    }
    publish_to_viewers(
        "MESSAGE_REVOKED",
        serialize.revocation(base, change, peer_read_seq=peer_read_seq),
        message,
        thread,
        to,
        change,
        [pk for pk, *_ in viewers],
        meta=meta,
        origin=origin,
    )
    return RevokedMessage(message, base, peer_read_seq)


def viewers_clause(thread: Thread, message: Message):
    """(SQL condition, params) on ``messaging_conversation`` for the rows of whoever may see
    ``message``: from their ``min_seq`` on; a targeted message's sender and receivers only
    (``Message.visible_to``)."""
    where, params = "thread_id = %s AND min_seq <= %s", [thread.pk, message.seq]
    if message.is_targeted:
        where += " AND (user_id = %s OR user_id IN (SELECT user_id FROM messaging_messagereceiver WHERE message_id = %s))"
        params += [message.sender_id, message.pk]
    return where, params


def publish_to_viewers(event, data, message: Message, thread: Thread, to, change, recipients, *, meta, origin):
    """``event`` about a changed ``message`` (a recall, an edit) to its viewers'
    ``recipients`` after commit (a group's through its thread's channel-layer group); a
    targeted message's other members get its change number alone."""
    if message.is_targeted:
        publish_change_to_others(thread, rules.group_conversation_id(to), change, recipients)
    via_thread = thread.pk if thread.kind == Thread.Kind.GROUP else None
    publish_on_commit(event, data, recipients, origin=origin, meta=meta, via_thread=via_thread)


def _thread_of(user, conversation_id, *, by_admin):
    """(thread, group or None, first seq the user may see, the message's ``to`` for a group,
    the C2C peer's read cursor)."""
    target = parse_conversation_id(conversation_id)
    if by_admin and target.kind == Thread.Kind.GROUP:
        group = access_group(target.target)
        return group.thread, group, 0, group.group_id, 0
    conv = access_conversation(user, conversation_id)
    if conv is None:
        raise ChatError(ErrorCode.MESSAGE_NOT_FOUND, "no such message")
    if conv.group_id:
        return conv.thread, conv.group, conv.min_seq, conv.group.group_id, 0
    if conv.thread.kind == Thread.Kind.SYSTEM:
        # Only system notices are there, and none can be recalled (10032 below).
        return conv.thread, None, conv.min_seq, user.username, 0
    return conv.thread, None, conv.min_seq, conv.peer.username, conv.peer_read_seq


def _c2c_receiver(user, message, peer_username):
    """A C2C message's ``to``: the peer when ``user`` sent it, else ``user``."""
    return peer_username if message.sender_id == user.pk else user.username


def check_may_revoke(user: User, message: Message, group, *, by_admin: bool, now):
    """Raise unless ``user`` may recall ``message`` now (the module's rules). A recalled
    message passes the window check again, so that recalling twice answers the same."""
    if by_admin:
        return
    if message.sender_id == user.pk:
        if message.is_revoked or now - message.created_at <= timedelta(seconds=runtime.get("REVOKE_WINDOW")):
            return
        # An owner's or admin's own message too: their role covers others' messages only.
        code = ErrorCode.C2C_REVOKE_WINDOW_PASSED if group is None else ErrorCode.GROUP_REVOKE_WINDOW_PASSED
        raise ChatError(code, "the time to recall this message has passed")
    if group is None:
        raise ChatError(ErrorCode.PERMISSION_DENIED, "you can only recall your own messages")
    if not _may_recall_others(user, message, group):
        raise ChatError(ErrorCode.PERMISSION_DENIED, "only the group owner or an admin can recall members' messages")


def _may_recall_others(user, message, group):
    """Whether ``user``'s role lets them recall someone else's ``message`` whatever its age:
    the owner anyone's; an admin ordinary members' (and departed members'). One query."""
    roles = dict(GroupMember.objects.filter(group=group, user_id__in=[user.pk, message.sender_id]).values_list("user_id", "role"))
    role = roles.get(user.pk)
    if role == GroupMember.Role.OWNER:
        return True
    sender_role = roles.get(message.sender_id, GroupMember.Role.MEMBER)
    return role == GroupMember.Role.ADMIN and sender_role == GroupMember.Role.MEMBER
