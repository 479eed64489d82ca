"""The relationship chain: friend lists, friend applications and block lists.

Each is a row per direction, as the SDK models them: ``Friend(owner, friend)`` says
that ``friend`` is in ``owner``'s friend list (the SDK's one-way friend; two rows make
the two-way friendship); ``FriendApplication(applicant, target)`` is a pending request
(``AllowType_Type_NeedConfirm``); ``Block(owner, blocked)`` is an entry of ``owner``'s
block list. Only ``messaging/actions/friends.py`` writes them.
"""

from django.conf import settings
from django.db import models


class Friend(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    friend = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The owner's remark for the friend (the SDK's 96 bytes): the conversation's title.
    remark = models.CharField(max_length=96, blank=True)
    source = models.CharField(max_length=64, blank=True)  # AddSource_Type_<keyword>
    wording = models.CharField(max_length=256, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "friend"], name="friend_once_per_owner")]

    def __str__(self):
        return f"{self.owner_id} -> {self.friend_id}"


class FriendApplication(models.Model):
    """A pending friend request from ``applicant`` to ``target``. ``remark`` is the
    applicant's preset remark for the target, used when it is accepted; ``is_read`` is
    the target's (setFriendApplicationRead)."""

    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    target = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    add_type = models.CharField(max_length=16, default="Add_Type_Both")
    source = models.CharField(max_length=64, blank=True)
    wording = models.CharField(max_length=256, blank=True)
    remark = models.CharField(max_length=96, blank=True)
    is_read = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["applicant", "target"], name="friend_application_once")]
        indexes = [models.Index(fields=["target", "is_read"], name="friend_app_target_read")]

    def __str__(self):
        return f"{self.applicant_id} asks {self.target_id}"


class Block(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    blocked = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "blocked"], name="block_once_per_owner")]

    def __str__(self):
        return f"{self.owner_id} blocks {self.blocked_id}"
