"""Editing a message: modifyMessage (shared/spec/TIM.md §5.4; docs/PROTOCOL.md §5.51).

Who may: the sender alone, of their own stored text (``payload.text``) or custom
message (``payload.data``, ``description``, ``extension``), and its cloudCustomData,
within ``EDIT_WINDOW`` seconds of sending (a run-time setting, default 24 h). Not a
recalled or deleted message, not in an AVChatRoom (2481, the SDK's "cannot be
modified"); someone else's message is 10007; a message the user cannot see is 10030.
The new text passes the banned-words check as a send does (80001, or masked), and the
body limit (80002).

Concurrent edits: the edit names the ``version`` it replaces (the SDK Message's
``version``); one UPDATE sets the new content only while the row still has that version
and is not recalled (compare-and-set). A loser gets 2480 with the current version in
``data.message``, as the SDK's conflict does, and nothing is written.

An edit, in one transaction: the compare-and-set, the thread's next change number (as a
recall: ``sync`` replays it in ``changedList``; the conversations' ``lastMessage`` is a
reference to the row, so it follows), and the replaced version kept in ``MessageEdit``
for moderators. After commit, MESSAGE_MODIFIED goes to every socket of every viewer
except the tab that asked, which gets the conversation patch (as for a recall).
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from messaging import rules, runtime, serialize
from messaging.access import access_conversation
from messaging.actions.message_revoke import publish_to_viewers, viewers_clause
from messaging.actions.message_send import ORDINARY, SendControl, check_body_size, moderate
from messaging.actions.message_types import BUILDERS
from messaging.errors import ChatError, ErrorCode
from messaging.models import Group, Message, MessageEdit, Thread, User


@dataclass(frozen=True)
class ModifiedMessage:
    """The edited row and its viewer-independent SDK Message (``serialize.message_base``)."""

    message: Message
    data: dict
    peer_read_seq: int = 0


def modify_message(
    user: User, conversation_id, message_id, *, version, payload, cloud_custom_data=None, origin=None
) -> ModifiedMessage:
    """Replace the content of ``user``'s message ``message_id`` (see the module's rules).
    ``payload`` is the new payload of the message's type; ``cloud_custom_data`` None keeps it."""
    conv = access_conversation(user, conversation_id)
    if conv is None or not isinstance(message_id, str) or not message_id:
        raise ChatError(ErrorCode.MESSAGE_NOT_FOUND, "no such message")
    message = (
        Message.objects.visible_to(user)
        .select_related("sender", "revoker")
        .filter(thread_id=conv.thread_id, msg_id=message_id, seq__gte=conv.first_seq)
        .first()
    )
    if message is None:
        raise ChatError(ErrorCode.MESSAGE_NOT_FOUND, "no such message")
    to = _to(user, conv, message)
    peer_read_seq = conv.peer_read_seq if conv.thread.kind == Thread.Kind.C2C else 0
    _check_may_modify(user, message, conv)
    if message.version != version:
        raise _conflict(message, conv.thread, to, user, peer_read_seq)
    body = BUILDERS[message.type](user, payload)
    if message.type == rules.TEXT and message.at_user_list:
        body.payload["atUserList"] = message.at_user_list  # the mentions stay as sent
    control = SendControl(excluded_from_content_moderation=True) if message.excluded_from_content_moderation else ORDINARY
    moderate(body, control)
    cloud = message.cloud_custom_data if cloud_custom_data is None else cloud_custom_data
    check_body_size(body.payload, cloud)

    now = timezone.now()
    with transaction.atomic():
        # The compare-and-set: only the version the editor saw, only a message still shown.
        won = Message.objects.filter(pk=message.pk, version=version, is_revoked=False, deleted_at__isnull=True).update(
            payload=body.payload, cloud_custom_data=cloud, version=F("version") + 1, modified_at=now
        )
        if not won:
            latest = Message.objects.select_related("sender", "revoker").get(pk=message.pk)
            if latest.is_revoked:
                raise ChatError(ErrorCode.MODIFY_NOT_SUPPORTED, "a recalled message cannot be edited")
            raise _conflict(latest, conv.thread, to, user, peer_read_seq)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE messaging_thread SET last_change = last_change + 1 WHERE id = %s RETURNING last_change",
                [conv.thread_id],
            )
            (change,) = cursor.fetchone()
        Message.objects.filter(pk=message.pk).update(change=change)
        # What the edit replaced: the content read above, which the version vouches for.
        MessageEdit.objects.create(
            message=message,
            version=version,
            payload=message.payload,
            cloud_custom_data=message.cloud_custom_data,
            replaced_at=now,
        )
        message.payload, message.cloud_custom_data = body.payload, cloud
        message.version, message.modified_at, message.change = version + 1, now, change
        base = serialize.message_base(message, conv.thread, sender=message.sender, to=to)
        _publish(message, conv.thread, base, change, to, peer_read_seq, origin)
    return ModifiedMessage(message, base, peer_read_seq)


def _check_may_modify(user, message, conv):
    if message.sender_id != user.pk:
        raise ChatError(ErrorCode.PERMISSION_DENIED, "you can only edit your own messages")
    if message.type not in rules.MODIFIABLE_TYPES:
        raise ChatError(ErrorCode.MODIFY_NOT_SUPPORTED, "only text and custom messages can be edited")
    if message.is_revoked or message.deleted_at is not None:
        raise ChatError(ErrorCode.MODIFY_NOT_SUPPORTED, "a recalled message cannot be edited")
    if conv.group_id and conv.group.type == Group.Type.AVCHATROOM:
        raise ChatError(ErrorCode.MODIFY_NOT_SUPPORTED, "messages of an AVChatRoom cannot be edited")
    if timezone.now() - message.created_at > timedelta(seconds=runtime.get("EDIT_WINDOW")):
        raise ChatError(ErrorCode.MODIFY_NOT_SUPPORTED, "the time to edit this message has passed")


def _to(user, conv, message):
    """The message's ``to``: the groupID, or the C2C receiver."""
    if conv.group_id:
        return conv.group.group_id
    return conv.peer.username if message.sender_id == user.pk else user.username


def _conflict(latest: Message, thread, to, user, peer_read_seq) -> ChatError:
    base = serialize.message_base(latest, thread, sender=latest.sender, to=to)
    current = serialize.for_viewer(base, user.username, peer_read_seq=peer_read_seq)
    return ChatError(ErrorCode.MODIFY_CONFLICT, "message modification conflict", data={"message": current})


def _publish(message, thread, base, change, to, peer_read_seq, origin):
    """MESSAGE_MODIFIED to the message's viewers (every socket but ``origin``), with each
    one's conversation patch (``lastMessage`` when it is their last message). One query:
    the viewers' conversation rows."""
    where, params = viewers_clause(thread, message)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT user_id, last_message_id, is_hidden FROM messaging_conversation WHERE {where}", params)
        viewers = cursor.fetchall()
    meta = {"last": [str(pk) for pk, last_id, hidden in viewers if last_id == message.pk and not hidden]}
    data = serialize.modification(base, change, peer_read_seq=peer_read_seq)
    recipients = [pk for pk, *_ in viewers]
    publish_to_viewers("MESSAGE_MODIFIED", data, message, thread, to, change, recipients, meta=meta, origin=origin)
