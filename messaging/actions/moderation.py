"""Moderators' changes of the site itself, and the audit log every moderator action writes.

``record_audit`` is called by each moderation action inside its own transaction, so an
entry exists exactly when the change it records was committed. ``update_chat_settings``
changes the run-time settings (``ChatSettings``, read through ``messaging.runtime``).
"""

from django.db import transaction

from messaging import runtime
from messaging.banned_words import BannedWords
from messaging.errors import ChatError, ErrorCode
from messaging.models import AuditLogEntry, ChatSettings

# Longest banned-word list accepted (words), and longest word (characters).
MAX_BANNED_WORDS = 50_000
MAX_BANNED_WORD = 100


def record_audit(actor, action, target_type, target_id, *, reason="", details=None) -> AuditLogEntry:
    """One audit entry: ``actor`` (a User, or None for the system) did ``action`` to
    ``target_type`` ``target_id``."""
    return AuditLogEntry.objects.create(
        actor=actor,
        actor_name=actor.username if actor is not None else "(system)",
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        reason=reason or "",
        details=details or {},
    )


def chat_settings() -> ChatSettings:
    """The settings row (unsaved defaults when no moderator has changed anything yet)."""
    return ChatSettings.objects.filter(pk=1).first() or ChatSettings(pk=1)


def check_banned_words(text):
    words = [w.strip() for w in text.splitlines() if w.strip()]
    if len(words) > MAX_BANNED_WORDS:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, f"at most {MAX_BANNED_WORDS} banned words")
    long = next((w for w in words if len(w) > MAX_BANNED_WORD), None)
    if long is not None:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, f"a banned word is longer than {MAX_BANNED_WORD} characters")
    BannedWords(words)  # compiles: a list that cannot be matched is refused here, not at send time
    return "\n".join(dict.fromkeys(words))


def update_chat_settings(actor, changes: dict, *, reason="") -> ChatSettings:
    """Set the named ``ChatSettings`` fields (None: back to the deployment's default).
    10004 for an unknown field or a bad value; nothing is saved then. The audit entry
    lists each changed field's old and new value (the banned-word list by its size)."""
    fields = {f.name for f in ChatSettings._meta.concrete_fields} - {"id", "updated_at"}
    unknown = set(changes) - fields
    if unknown:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, f"unknown settings: {', '.join(sorted(unknown))}")
    if "banned_words" in changes:
        changes = {**changes, "banned_words": check_banned_words(changes["banned_words"] or "")}
    with transaction.atomic():
        row = ChatSettings.objects.select_for_update().filter(pk=1).first() or ChatSettings(pk=1)
        diff = {}
        for name, value in changes.items():
            old = getattr(row, name)
            if old == value:
                continue
            setattr(row, name, value)
            if name == "banned_words":
                diff[name] = [len(old.splitlines()), len(value.splitlines())]
            else:
                diff[name] = [old, value]
        if not diff:
            return row
        try:
            row.full_clean()
        except Exception as error:  # ValidationError: the admin's form shows the same checks
            raise ChatError(ErrorCode.INVALID_PARAMETERS, str(error)) from None
        row.save()
        record_audit(actor, "update_settings", "settings", "chat", reason=reason, details=diff)
        transaction.on_commit(lambda: runtime.install(row))
    return row
