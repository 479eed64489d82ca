from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A credential of the server REST API (docs/API.md), made and revoked in the admin.

    Only the SHA-256 of the secret is stored (``key_hash``); the secret is shown once, when
    the token is made (``actions.api_tokens``). ``prefix`` (the secret's first characters)
    tells tokens apart in the admin without revealing them. ``scopes`` lists what the token
    may do (``rules.API_SCOPES``); ``identifier`` is the vendor's app admin account: the
    sender of messages that name no ``From_Account`` and the operator in group tips.
    """

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(default=list)
    identifier = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API token"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self):
        return self.revoked_at is None
