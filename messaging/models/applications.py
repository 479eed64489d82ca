from django.conf import settings
from django.db import models


class GroupApplication(models.Model):
    """A request to join a group whose joinOption is NeedPermission (joinGroup).

    The owner and admins of the group get it as a group system notice (operationType 1)
    in their system conversation and answer it with handleGroupApplication. One
    pending application per (group, applicant): applying again while one waits adds
    nothing. Once handled (``handler``, ``handled_at``) it stays as the record; a
    refused applicant may apply again (a new row).
    """

    class Status(models.TextChoices):
        PENDING = "Pending"
        ACCEPTED = "Accepted"
        REFUSED = "Refused"

    group = models.ForeignKey("messaging.Group", on_delete=models.CASCADE, related_name="applications")
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_applications")
    # The SDK's joinGroup applyMessage (the notice's handleMessage as the admins see it).
    apply_message = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    handler = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    handle_message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["group", "applicant"], condition=models.Q(status="Pending"), name="one_pending_application"
            )
        ]
        indexes = [models.Index(fields=["group", "status"], name="application_group_status_idx")]

    def __str__(self):
        return f"{self.applicant_id} -> {self.group_id} ({self.status})"
