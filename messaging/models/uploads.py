import uuid

from django.conf import settings
from django.db import models


class Upload(models.Model):
    """A file in storage, owned by the user who uploaded it.

    Life: ``pending`` (created; the bytes go to storage straight from the browser)
    → ``ready`` (the server checked size and type from the bytes and, for images,
    made the thumbnails) or ``failed``; a ready file a moderator deleted is
    ``deleted``. A message refers to ready uploads through ``Message.attachments``;
    it never carries file bytes. ``variants`` holds the
    extra objects made from it: for images ``large`` (720 px) and ``thumb``
    (198 px), each ``{"key", "width", "height", "size", "content_type"}``.
    """

    class Kind(models.TextChoices):
        IMAGE = "image"
        AUDIO = "audio"
        VIDEO = "video"
        FILE = "file"
        MERGER = "merger"

    class Status(models.TextChoices):
        PENDING = "pending"
        READY = "ready"
        FAILED = "failed"
        # Deleted by a moderator with the message that sent it (delete_message_for_everyone):
        # the stored objects are gone; the row stays as the record.
        DELETED = "deleted"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Deleting the owner's user row keeps the upload: messages of other people refer
    # to it (a picture sent to them is their history too).
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="uploads")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    name = models.CharField(max_length=255)
    declared_size = models.BigIntegerField()
    size = models.BigIntegerField(default=0)
    content_type = models.CharField(max_length=100, blank=True)
    key = models.CharField(max_length=300, unique=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    image_format = models.PositiveSmallIntegerField(null=True, blank=True)
    variants = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.kind} {self.uuid} ({self.status})"
