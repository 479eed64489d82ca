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


# --- the Moderators group -------------------------------------------------------------------

MODERATORS_GROUP = "Moderators"
# What moderation needs (codenames of the messaging app), and nothing of Django's auth: a
# moderator cannot grant permissions, make staff or superusers, or change staff accounts
# (access.access_moderated_user, the admin's read-only auth fields).
MODERATOR_PERMISSIONS = (
    "view_user",
    "change_user",  # ban, unban, reset a password, nick and avatar: chat users only
    "view_group",
    "change_group",  # profile, mute all, transfer, remove members, dismiss
    "view_groupmember",
    "change_groupmember",  # roles and mutes in the member inline
    "view_groupapplication",
    "view_message",
    "moderate_message",  # recall or delete any message for everyone
    "view_conversation",
    "view_upload",  # attachments in the admin, recalled ones too (access_upload_for_download)
    "view_chatsettings",
    "change_chatsettings",
    "view_auditlogentry",
    "view_messagereport",
    "change_messagereport",  # resolve reports (actions/reports.py)
)


def ensure_moderators_group(*, using="default"):
    """The auth Group "Moderators" with at least ``MODERATOR_PERMISSIONS`` (made on every
    ``migrate``, from ``apps.py``'s post_migrate: a new permission reaches existing sites;
    permissions an operator added to the group stay). Returns the group."""
    from django.contrib.auth.models import Group as AuthGroup
    from django.contrib.auth.models import Permission

    group, _ = AuthGroup.objects.using(using).get_or_create(name=MODERATORS_GROUP)
    wanted = Permission.objects.using(using).filter(content_type__app_label="messaging", codename__in=MODERATOR_PERMISSIONS)
    missing = set(MODERATOR_PERMISSIONS) - {p.codename for p in wanted}
    if missing:
        raise RuntimeError(f"permissions missing for the Moderators group: {', '.join(sorted(missing))}")
    group.permissions.add(*wanted)
    return group
