"""What moderators change at run time, and the record of what they did.

``ChatSettings`` is one row (pk 1): the settings a moderator edits in the admin while the
site runs (revoke window, group rate, friendship check, banned words, upload limits,
retention, open sign-up). Each field left empty means "the deployment's default", the
value of ``messaging.conf`` (``settings.CHAT`` and the environment), so a fresh site
behaves as configured and a moderator overrides only what they mean to. Read through
``messaging.runtime``, written only by ``actions.update_chat_settings``.

``AuditLogEntry`` is append-only: who did what to which target, why and when, written by
the moderation actions in the same transaction as the change it records.
"""

from django.conf import settings
from django.db import models


class ChatSettings(models.Model):
    class BannedWordsAction(models.TextChoices):
        REFUSE = "refuse", "Refuse the message (80001)"
        MASK = "mask", "Mask the words with *"

    revoke_window = models.PositiveIntegerField(null=True, blank=True, help_text="Seconds a sender may recall their own message.")
    group_send_rate = models.PositiveIntegerField(
        null=True, blank=True, help_text="Messages a second per group before lower priorities are shed (10023)."
    )
    friendship_check = models.BooleanField(
        null=True, blank=True, help_text="One-to-one messages only between two-way friends (20009 otherwise)."
    )
    banned_words = models.TextField(
        blank=True,
        help_text="One word or phrase a line. Matched without regard to case or full/half width, inside words "
        "and in Chinese, Japanese or Korean text.",
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
