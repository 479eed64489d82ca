"""What moderators change at run time, and the record of what they did.

``ChatSettings`` is one row (pk 1): the settings a moderator edits in the admin while the
site runs (revoke window, group rate, friendship check, banned words, upload limits,
retention, open sign-up). Each field left empty means "the deployment's default", the
value of ``messaging.conf`` (``settings.CHAT`` and the environment), so a fresh site
behaves as configured and a moderator overrides only what they mean to. Read through
``messaging.runtime``, written only by ``actions.update_chat_settings``.

``AuditLogEntry`` is append-only: who did what to which target, why and when, written by
the moderation actions in the same transaction as the change it records.

``MessageReport`` is a user's report of a message (``reportMessage``), queued for the
moderators in the admin until one resolves it (``actions.reports``).
"""

from django.conf import settings
from django.db import models

from messaging import rules


class ChatSettings(models.Model):
    class BannedWordsAction(models.TextChoices):
        REFUSE = "refuse", "Refuse the message (80001)"
        MASK = "mask", "Mask the words with *"

    revoke_window = models.PositiveIntegerField(null=True, blank=True, help_text="Seconds a sender may recall their own message.")
    edit_window = models.PositiveIntegerField(
        null=True, blank=True, help_text="Seconds a sender may edit their own text or custom message."
    )
    group_send_rate = models.PositiveIntegerField(
        null=True, blank=True, help_text="Messages a second per group before lower priorities are shed (10023)."
    )
    friendship_check = models.BooleanField(
        null=True, blank=True, help_text="One-to-one messages only between two-way friends (20009 otherwise)."
    )
    banned_words = models.TextField(
        blank=True,
        help_text="One word or phrase a line. Matched without regard to case or full/half width: a word of "
        "Latin letters and digits as a whole word, anything else (Chinese, Japanese, Korean) anywhere in the text.",
    )
    banned_words_action = models.CharField(max_length=8, choices=BannedWordsAction.choices, blank=True)
    max_image_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    max_audio_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    max_video_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    max_file_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    user_storage_quota = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Bytes of finished files a user may keep (0: no limit)."
    )
    retention_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Messages and files older than this are purged (0: kept for ever)."
    )
    open_signup = models.BooleanField(null=True, blank=True, help_text="Anyone may create an account.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "chat settings"

    def __str__(self):
        return "Chat settings"


class AuditLogEntry(models.Model):
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="audit_entries")
    # Kept when the actor's row is gone: the log must still say who it was.
    actor_name = models.CharField(max_length=150)
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=32, db_index=True)
    target_id = models.CharField(max_length=255, db_index=True)
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log"

    def __str__(self):
        return f"{self.actor_name} {self.action} {self.target_type} {self.target_id}"


MAX_REPORT_DESCRIPTION = rules.MAX_REPORT_DESCRIPTION


class MessageReport(models.Model):
    """A user's report of a message they can see. At most one open report per (reporter,
    message): reporting again while it is open updates it (``actions.report_message``).
    Written only by ``actions.report_message`` and ``actions.resolve_report``."""

    class Reason(models.TextChoices):
        SPAM = "spam", "Spam"
        ABUSE = "abuse", "Abuse or harassment"
        ILLEGAL = "illegal", "Illegal content"
        OTHER = "other", "Something else"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"
        DISMISSED = "dismissed", "Dismissed"

    class Action(models.TextChoices):
        NONE = "none", "None"
        RECALLED = "recalled", "Message recalled"
        DELETED = "deleted", "Message deleted for everyone"
        BANNED = "banned", "Sender banned"
        DISMISSED = "dismissed", "Dismissed"

    # The reporter's row may go (an account deleted): the report stays for the record.
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    message = models.ForeignKey("messaging.Message", on_delete=models.CASCADE, related_name="reports")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    description = models.CharField(max_length=MAX_REPORT_DESCRIPTION, blank=True)
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    action_taken = models.CharField(max_length=16, choices=Action.choices, default=Action.NONE)
    note = models.TextField(blank=True, help_text="The moderator's words on the resolution (kept in the audit log too).")

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["reporter", "message"], condition=models.Q(status="open"), name="one_open_report_per_reporter"
            ),
        ]
        indexes = [
            # The queue: open reports, newest first.
            models.Index(fields=["status", "-created_at"], name="report_queue_idx"),
            # The reporter's rate (reports made in the last hour).
            models.Index(fields=["reporter", "created_at"], name="report_rate_idx"),
        ]

    def __str__(self):
        return f"Report {self.pk} of message {self.message_id} ({self.get_reason_display()})"
