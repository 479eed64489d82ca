from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q


class MessageQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The messages ``user`` may see, as far as the message itself says: every message
        but a targeted group message (``receiverList``) of which ``user`` is neither the
        sender nor a receiver. The one place of that rule: every read of messages goes
        through it (history, catch-up, recall, forward and merge, downloads, sync). Which
        part of a thread a user may see at all (``Conversation.min_seq``, membership) is
        the caller's. An EXISTS, not a join: no duplicate rows, the same SQL on SQLite
        and PostgreSQL.

        A message ``user`` deleted for themselves (``MessageDeletion``, deleteMessage) is
        not visible to them either: gone from every read of theirs, as the SDK's
        ``isDeleted`` says, and nobody else's."""
        receives = MessageReceiver.objects.filter(message=OuterRef("pk"), user=user)
        deleted = MessageDeletion.objects.filter(message=OuterRef("pk"), user=user)
        return self.filter(Q(is_targeted=False) | Q(sender=user) | Exists(receives)).exclude(Exists(deleted))


class Message(models.Model):
    """One message in a thread. ``seq`` is unique in the thread and gap-free.

    ``msg_id`` is the SDK's message ``ID``: the client's own ID when it sent one
    (unique per sender, so a resend returns the stored message), otherwise one the
    server made.
    """

    thread = models.ForeignKey("messaging.Thread", on_delete=models.CASCADE, related_name="messages")
    seq = models.BigIntegerField()
    msg_id = models.CharField(max_length=64)
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    type = models.CharField(max_length=32)
    payload = models.JSONField(default=dict)
    priority = models.CharField(max_length=8, default="Normal")
    cloud_custom_data = models.TextField(blank=True)
    at_user_list = models.JSONField(default=list, blank=True)
    need_read_receipt = models.BooleanField(default=False)
    # C2C: when the receiver's first read receipt covering it came (readReceiptInfo.timestamp).
    # Group counts come from the members' cursors (Conversation.receipt_seq), not from here.
    receipt_time = models.DateTimeField(null=True, blank=True)
    random = models.BigIntegerField(default=0)
    client_time = models.BigIntegerField(default=0)
    is_revoked = models.BooleanField(default=False)
    # Who recalled it and when (actions.message_revoke). The content stays in the row for
    # moderation; serialize never sends it once ``is_revoked`` is set.
    revoker = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    # When a moderator deleted it for everyone (actions.message_moderation): recalled in the
    # moderator's name, content (payload, cloudCustomData) and stored files gone; the row
    # stays, so the thread's sequence stays whole.
    deleted_at = models.DateTimeField(null=True, blank=True)
    # The SDK's offlinePushInfo as the sender gave it (validated by the op schema). The web
    # has no push of its own; it is kept for a push gateway or the REST API to read.
    offline_push_info = models.JSONField(null=True, blank=True)
    # The SDK's messageControlInfo. The first two are applied by the send's conversation
    # UPDATE (no unread +1; the conversations' lastMessage stays as it was); the last one
    # is kept for the banned-words check.
    excluded_from_unread_count = models.BooleanField(default=False)
    excluded_from_last_message = models.BooleanField(default=False)
    excluded_from_content_moderation = models.BooleanField(default=False)
    # A targeted group message (the SDK's receiverList): seen only by its sender and the
    # users in ``receiver_list`` (kept as sent, for the SDK Message), one MessageReceiver
    # row each (what ``visible_to`` queries).
    is_targeted = models.BooleanField(default=False)
    receiver_list = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    # Edits by the sender (modifyMessage, actions/message_modify.py): ``version`` counts
    # them (0: never edited; the SDK's ``isModified`` is ``version > 0``), and an edit
    # names the version it replaces, so that two concurrent edits cannot both win.
    # The versions replaced are kept for moderators (MessageEdit).
    version = models.PositiveIntegerField(default=0)
    modified_at = models.DateTimeField(null=True, blank=True)
    # The thread's change counter (Thread.last_change) when this message was stored, and at
    # its last change (a recall): sync tells new messages from changed ones by them.
    created_change = models.BigIntegerField(default=0)
    change = models.BigIntegerField(default=0)
    # Uploads this message refers to (its own, forwarded or merged ones): a member of
    # the thread may download them.
    attachments = models.ManyToManyField("messaging.Upload", blank=True, related_name="messages")

    objects = MessageQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["thread", "seq"], name="unique_thread_seq"),
            models.UniqueConstraint(fields=["sender", "msg_id"], name="unique_sender_msg_id"),
            # An ID names one message in its thread (paging cursors, forwards).
            models.UniqueConstraint(fields=["thread", "msg_id"], name="unique_thread_msg_id"),
        ]
        indexes = [
            models.Index(fields=["thread", "change"], name="message_change_idx"),
            # A receipt finds the senders of the messages its cursor passed (actions/read_receipts.py).
            models.Index(fields=["thread", "seq"], condition=models.Q(need_read_receipt=True), name="receipt_message_idx"),
            # The admin's message list, newest first, and its date filter.
            models.Index(fields=["created_at"], name="message_created_idx"),
            # A user's last messages (the admin's user page: queries/moderation.py).
            models.Index(fields=["sender", "created_at"], name="message_sender_created_idx"),
        ]
        permissions = [("moderate_message", "Can recall or delete any message for everyone")]

    def __str__(self):
        return f"{self.thread_id}#{self.seq} {self.type}"


class MessageEdit(models.Model):
    """A version of a message that an edit replaced (modifyMessage): its content as it was,
    kept for moderators (read-only in the admin's message page); never sent to clients."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="edits")
    version = models.PositiveIntegerField()
    payload = models.JSONField(default=dict)
    cloud_custom_data = models.TextField(blank=True)
    # When this version was replaced (it was current from the previous edit, or the send).
    replaced_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "version"], name="unique_message_edit_version")]
        ordering = ["message", "version"]

    def __str__(self):
        return f"{self.message_id} v{self.version}"


class MessageReceiver(models.Model):
    """A receiver of a targeted group message (``Message.is_targeted``)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="receivers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "user"], name="unique_message_receiver")]

    def __str__(self):
        return f"{self.message_id} to {self.user_id}"


class MessageDeletion(models.Model):
    """A message ``user`` deleted for themselves (deleteMessage; actions/message_delete.py).

    ``change`` is the thread's change number the deletion took, so that ``sync`` tells a
    client of this user that missed the event (queries/sync.py); the other viewers' rows
    and views are untouched."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="deletions")
    thread = models.ForeignKey("messaging.Thread", on_delete=models.CASCADE, related_name="+")
    change = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "user"], name="unique_message_deletion")]
        indexes = [models.Index(fields=["user", "thread", "change"], name="message_deletion_sync_idx")]

    def __str__(self):
        return f"{self.message_id} deleted for {self.user_id}"


class GroupAtMention(models.Model):
    """A group message that mentions a user (``user``) or everyone (``user`` is NULL).

    A member's conversation shows it in ``groupAtInfoList`` while its ``seq`` is
    after the member's read cursor. One row per mentioned user, one for @all:
    mentioning everyone costs one row, not one per member.
    """

    thread = models.ForeignKey("messaging.Thread", on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="mentions")
    seq = models.BigIntegerField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["thread", "seq"])]

    def __str__(self):
        return f"@{self.user_id or 'all'} in {self.thread_id}#{self.seq}"


class MessageReaction(models.Model):
    """One user's reaction to a message (addMessageReaction; actions/reactions.py): one row
    per (message, user, reactionID). The counts are a grouped query over these rows
    (queries/reactions.py), never a stored counter: nothing to drift."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reaction_id = models.CharField(max_length=64)
    created = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "user", "reaction_id"], name="unique_message_reaction"),
        ]
        indexes = [models.Index(fields=["message", "reaction_id", "created"], name="message_reaction_order_idx")]

    def __str__(self):
        return f"{self.reaction_id} on {self.message_id} by {self.user_id}"
