"""Moderators' changes of a message: recall without a time window, and delete for everyone.

Both take ``(moderator, message, reason=...)``: the admin's bulk actions call them, and so
can any other transport (a report's resolution, the REST API). Each checks the
``messaging.moderate_message`` permission itself (``access.access_moderation``), works on
any message of any thread (C2C, group, targeted), and writes its audit entry in the
same transaction as the change.

- ``recall_message_as_moderator``: the message is recalled in the moderator's name,
  exactly as a recall from a chat tab (``message_revoke.revoke_locked``): the thread's
  next change number (``sync`` replays it), unread counts and @-flags corrected,
  MESSAGE_REVOKED to every open tab of every viewer at once (both C2C parties). The
  content stays in the row, for moderation, and never leaves the server again.
- ``delete_message_for_everyone``: the same recall (unless it was recalled already),
  and then the content is gone from the row (payload, cloudCustomData, atUserList, the
  offline push info) and the message's stored files from storage, after commit. The row
  stays, so the thread's sequence stays whole. Clients see what the SDK can show: a
  recalled message whose ``revoker`` is the moderator (docs/PROTOCOL.md §5.20). A
  message recalled before keeps its revoker and takes no change number: what clients
  see of it does not change.

  The files are the message's attachments: an image, a video and its snapshot, an
  audio or a file, also when they came by forward (a file a moderator deleted is gone
  from every message that showed it). A merged message's files are the messages it
  bundles, which belong to their own conversations: only its stored message list goes.
  The uploads stay as rows with the status ``deleted`` (the record); nobody can
  download them again.
"""

import uuid

from django.db import transaction
from django.utils import timezone

from messaging import rules, serialize, storage
from messaging.access import MODERATE_MESSAGE_PERMISSION, access_moderation
from messaging.actions.message_revoke import NOT_REVOCABLE, RevokedMessage, revoke_locked
from messaging.actions.moderation import record_audit
from messaging.errors import ChatError, ErrorCode
from messaging.models import Message, Thread, Upload, User


def recall_message_as_moderator(moderator: User, message: Message, reason="", *, origin=None) -> RevokedMessage:
    """Recall ``message`` (a Message or its pk) for everyone, whatever its age or thread.
    10007 without the permission, 10030 no such message, 10032 a group tip or notice.
    Recalling a recalled message changes nothing and logs nothing (``changed`` False)."""
    access_moderation(moderator, MODERATE_MESSAGE_PERMISSION)
    with transaction.atomic():
        locked, thread, group, to = _lock(message)
        if locked.is_revoked:
            base = serialize.message_base(locked, thread, sender=locked.sender, to=to)
            return RevokedMessage(locked, base, changed=False)
        revoked = revoke_locked(moderator, locked, thread, group, to, now=timezone.now(), origin=origin)
        record_audit(moderator, "recall_message", "message", locked.pk, reason=reason, details=_described(locked, thread, to))
    return revoked


def delete_message_for_everyone(moderator: User, message: Message, reason="", *, origin=None) -> Message:
    """Delete ``message`` (a Message or its pk) for everyone (see the module): recalled in
    the moderator's name if it was not, its content and files gone. Returns the row.
    Deleting a deleted message changes nothing and logs nothing. Codes as
    ``recall_message_as_moderator``."""
    access_moderation(moderator, MODERATE_MESSAGE_PERMISSION)
    with transaction.atomic():
        locked, thread, group, to = _lock(message)
        if locked.deleted_at is not None:
            return locked
        details = _described(locked, thread, to)
        now = timezone.now()
        details["recalled"] = not locked.is_revoked
        if not locked.is_revoked:
            revoke_locked(moderator, locked, thread, group, to, now=now, origin=origin)
        files = _files_of(locked)
        keys = sorted({key for upload in files for key in _stored_keys(upload)})
        Upload.objects.filter(pk__in=[u.pk for u in files]).update(status=Upload.Status.DELETED, variants={})
        wiped = {"payload": {}, "cloud_custom_data": "", "at_user_list": [], "offline_push_info": None, "deleted_at": now}
        Message.objects.filter(pk=locked.pk).update(**wiped)
        for field, value in wiped.items():
            setattr(locked, field, value)
        details["files"] = [upload.uuid.hex for upload in files]
        record_audit(moderator, "delete_message", "message", locked.pk, reason=reason, details=details)
        transaction.on_commit(lambda: _discard(keys))
    return locked


def _lock(message):
    """(the message row locked, its thread, its group or None, the message's ``to``)."""
    pk = message.pk if isinstance(message, Message) else message
    locked = (
        Message.objects.select_for_update(of=("self",)).select_related("sender", "revoker").filter(pk=pk).first()
        if isinstance(pk, int)
        else None
    )
    if locked is None:
        raise ChatError(ErrorCode.MESSAGE_NOT_FOUND, "no such message")
    if locked.type in NOT_REVOCABLE or locked.sender_id is None:
        raise ChatError(ErrorCode.MESSAGE_NOT_REVOCABLE, "group tips and notices cannot be recalled or deleted")
    thread = Thread.objects.select_related("group", "user_low", "user_high").get(pk=locked.thread_id)
    group = getattr(thread, "group", None) if thread.kind == Thread.Kind.GROUP else None
    if group is not None:
        return locked, thread, group, group.group_id
    # C2C: ``to`` is the party who did not send it (the SDK's receiver).
    parties = [u for u in (thread.user_low, thread.user_high) if u is not None]
    receiver = next((u for u in parties if u.pk != locked.sender_id), None)
    return locked, thread, None, receiver.username if receiver else locked.sender.username


def _described(message: Message, thread: Thread, to) -> dict:
    """What the audit entry says of the message (the row's pk is its target)."""
    conversation = rules.group_conversation_id(to) if thread.kind == Thread.Kind.GROUP else rules.c2c_conversation_id(to)
    return {"ID": message.msg_id, "from": message.sender.username, "conversationID": conversation, "sequence": message.seq}


def _files_of(message: Message) -> list[Upload]:
    """The uploads a deletion removes (see the module): a merged message's own stored list,
    any other message's attachments."""
    uploads = message.attachments.exclude(status=Upload.Status.DELETED)
    if message.type == rules.MERGER:
        uploads = uploads.filter(kind=Upload.Kind.MERGER, uuid=_uuid(message.payload.get("downloadKey")))
    return list(uploads)


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _stored_keys(upload: Upload):
    yield upload.key
    for info in (upload.variants or {}).values():
        if isinstance(info, dict) and info.get("key"):
            yield info["key"]


def _discard(keys):
    for key in keys:
        storage.discard(key)
