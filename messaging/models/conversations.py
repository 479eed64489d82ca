from django.conf import settings
from django.db import models


class Conversation(models.Model):
    """One user's view of one thread: read cursor, unread count, last message, pin, hidden.

    A row exists for each C2C party once the pair has exchanged a message, and for
    each member of a group while they are a member (quitting deletes the row, so the
    ex-member sees nothing more). ``unread_count`` is kept by the send's single
    UPDATE (+1) and zeroed by mark-read; ``min_seq`` is the first message the user
    may see (pre-join history is hidden in Work and Public groups).

    ``receipt_seq`` is the user's read-receipt cursor (sendMessageReadReceipt): it only
    moves forward, and a message of seq ``s`` that asked for receipts counts as read by
    every other member with ``min_seq <= s <= receipt_seq`` (queries/receipts.py). One
    cursor per member, not a row per reader per message: a receipt is one UPDATE
    whatever the group's size.

    Delete for me (actions/message_delete.py) is this row's too: ``cleared_seq`` is how far
    ``clearHistoryMessage`` cleared the thread for this user (``first_seq`` is where their
    history starts: it is not ``min_seq``, which receipts and recalls read as "was a member
    then"), single messages are ``MessageDeletion`` rows, and ``deleted_change`` is the
    thread's change number of the latest of either, so that ``sync`` knows whether a client
    behind it needs them.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations")
    thread = models.ForeignKey("messaging.Thread", on_delete=models.CASCADE, related_name="conversations")
    conversation_id = models.CharField(max_length=64)
    # The C2C peer. Deleting the peer's user row keeps this user's conversation (the
    # peer's profile is then gone; the conversationID and the history stay).
    peer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    group = models.ForeignKey("messaging.Group", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    last_read_seq = models.BigIntegerField(default=0)
    min_seq = models.BigIntegerField(default=1)
    unread_count = models.IntegerField(default=0)
    receipt_seq = models.BigIntegerField(default=0)
    cleared_seq = models.BigIntegerField(default=0)
    deleted_change = models.BigIntegerField(default=0)
    # Every send rewrites the last message, its time and the hidden flag of each of the
    # thread's rows (a 5,000-member room: 5,000 rows a message). None of them is in an
    # index, nor is ``last_message`` a database foreign key (Django still sets it to NULL
    # when its message is deleted): the UPDATE is then HOT, written in place on its page
    # with no new entry in any of the table's indexes, and no constraint check per row at
    # commit (migration 0027; docs/PERFORMANCE.md, "the live room under 1 s"). The list
    # sorts a user's rows.
    last_message = models.ForeignKey(
        "messaging.Message",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    last_time = models.DateTimeField(null=True, blank=True)
    is_pinned = models.BooleanField(default=False)
    is_hidden = models.BooleanField(default=False)
    # The user's settings of the conversation (actions/conversation_settings.py): the
    # composer's draft, kept for every device (setConversationDraft); the marks
    # (markConversation), a bit mask of the SDK's CONV_MARK_TYPE_* values; the receive
    # option (setMessageRemindType: AcceptAndNotify, AcceptNotNotify, Discard).
    draft_text = models.TextField(blank=True, default="")
    marks = models.BigIntegerField(default=0)
    remind_type = models.CharField(max_length=16, default="AcceptAndNotify")
    # The names of the user's conversation groups (ConversationGroup) this conversation is
    # in. Kept on the row, not in a join table: getConversationList reads it with the row
    # (its query count stays fixed); the group ops, rare, rewrite the few rows they touch.
    group_names = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "thread"], name="unique_user_thread"),
            models.UniqueConstraint(fields=["user", "conversation_id"], name="unique_user_conversation_id"),
        ]

    def __str__(self):
        return f"{self.user_id}:{self.conversation_id}"

    @property
    def first_seq(self):
        """The first sequence of this user's history: after what they cleared, and not
        before what they may see (``min_seq``)."""
        return max(self.min_seq, self.cleared_seq + 1)


class ConversationGroup(models.Model):
    """One of a user's conversation groups (createConversationGroup): a named filter of
    their conversation list, at most 20 per user. The members are the conversations whose
    ``group_names`` hold the name (actions/conversation_groups.py keeps both in step)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversation_groups")
    name = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="unique_user_conversation_group")]

    def __str__(self):
        return f"{self.user_id}:{self.name}"
