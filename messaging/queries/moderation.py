"""What the moderators' admin reads about a user: their groups and their recent messages.

Each is one query whatever the number of groups or messages (pinned in
tests/test_admin_moderation.py), and returns plain rows the admin's template renders.
"""

from dataclasses import dataclass
from datetime import datetime

from messaging import rules
from messaging.models import GroupMember, Message, Thread, User

RECENT_MESSAGES = 20


@dataclass(frozen=True)
class MessageRow:
    """A message as the admin lists it: where, what, when, and what happened to it."""

    pk: int
    msg_id: str
    conversation: str  # the conversationID as the sender sees it; a Work group's "GROUP<id>"
    seq: int
    sender: str
    type: str
    preview: str
    created_at: datetime
    state: str  # "", "recalled by <userID>" or "deleted by <userID>"


def user_groups(user: User) -> list[GroupMember]:
    """``user``'s memberships, each with its group (one query), newest first."""
    return list(GroupMember.objects.filter(user=user).select_related("group").order_by("-joined_at", "-pk"))


def recent_messages(user: User, limit=RECENT_MESSAGES) -> list[MessageRow]:
    """The last ``limit`` messages ``user`` sent, any thread (one query)."""
    rows = (
        Message.objects.filter(sender=user)
        .select_related("sender", "thread", "thread__group", "thread__user_low", "thread__user_high", "revoker")
        .order_by("-created_at", "-pk")[:limit]
    )
    return [message_row(m) for m in rows]


def message_row(message: Message) -> MessageRow:
    """Expects ``sender``, ``thread``, ``thread__group``, ``thread__user_low``/``_high`` and
    ``revoker`` selected."""
    return MessageRow(
        pk=message.pk,
        msg_id=message.msg_id,
        conversation=conversation_label(message),
        seq=message.seq,
        sender=message.sender.username if message.sender_id and message.sender else "",
        type=message.type,
        preview=preview(message),
        created_at=message.created_at,
        state=state(message),
    )


def conversation_label(message: Message) -> str:
    """The conversation of ``message`` as its sender sees it (``GROUP<id>``, ``C2C<peer>``),
    the system conversation's ID for a notice."""
    thread = message.thread
    if thread.kind == Thread.Kind.GROUP:
        group = getattr(thread, "group", None)
        return rules.group_conversation_id(group.group_id) if group else thread.key
    if thread.kind == Thread.Kind.SYSTEM:
        return rules.SYSTEM_CONVERSATION_ID
    parties = [u for u in (thread.user_low, thread.user_high) if u is not None]
    peer = next((u for u in parties if u.pk != message.sender_id), None)
    if peer is None:  # a note to oneself, or the peer's row is gone
        peer = parties[0] if parties else None
    return rules.c2c_conversation_id(peer.username) if peer else thread.key


PREVIEW_CHARACTERS = 120


def preview(message: Message) -> str:
    """The stored content in a line: the text of a text message (recalled ones too: the
    admin is where moderators read them), else the SDK's ``messageForShow``."""
    if message.deleted_at is not None:
        return "(deleted)"
    text = message.payload.get("text") if isinstance(message.payload, dict) else None
    shown = text if isinstance(text, str) else rules.message_for_show(message.type, message.payload)
    return shown if len(shown) <= PREVIEW_CHARACTERS else shown[: PREVIEW_CHARACTERS - 1] + "…"


def state(message: Message) -> str:
    if not message.is_revoked:
        return f"edited ({message.version}×)" if message.version else ""
    who = message.revoker.username if message.revoker_id and message.revoker else "?"
    return f"deleted by {who}" if message.deleted_at is not None else f"recalled by {who}"
