"""Server API tokens (docs/API.md): made and revoked in the admin, used by the host's backend.

A token's secret is ``chat_`` and 43 random URL-safe characters (256 bits); only its
SHA-256 is stored, so a copy of the database gives no way in. The secret is returned
once, by ``create_api_token``, for the admin to show; it cannot be shown again. A
revoked token is refused at once (the lookup reads ``revoked_at``). ``last_used_at`` is
written at most once a minute per token (``LAST_USED_PRECISION``), so the API does not
write a row on every call.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from messaging.actions.moderation import record_audit
from messaging.errors import ChatError, ErrorCode
from messaging.models import ApiToken, User

SECRET_PREFIX = "chat_"
# What a token may do, and the endpoints each scope opens (docs/API.md).
SCOPES = {
    "users": "import accounts, read a user's unread counts",
    "messages": "send (as a user or as the app admin), batch send, read history",
    "groups": "create groups, add and remove members, set roles",
    "moderation": "recall any message, mute members or everyone, ban and unban users",
}
LAST_USED_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class NewApiToken:
    token: ApiToken
    secret: str  # shown once; only its hash is stored


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_token(name, *, scopes, identifier: User, created_by: User | None = None) -> NewApiToken:
    """A new token named ``name`` with ``scopes`` (keys of ``SCOPES``), acting as the app
    admin account ``identifier``. 10004 for an empty name, no scope or an unknown one, or
    an inactive identifier."""
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "a token needs a name of at most 100 characters")
    scopes = list(dict.fromkeys(scopes or ()))
    unknown = [s for s in scopes if s not in SCOPES]
    if not scopes or unknown:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, f"scopes must be some of {', '.join(SCOPES)}")
    if identifier is None or not identifier.is_active:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "the token's identifier must be an active account")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            name=name.strip(),
            prefix=secret[: len(SECRET_PREFIX) + 6],
            key_hash=hash_secret(secret),
            scopes=[s for s in SCOPES if s in scopes],
            identifier=identifier,
            created_by=created_by,
        )
        if created_by is not None:
            record_audit(
                created_by, "create_api_token", "api_token", token.prefix, details={"name": token.name, "scopes": token.scopes}
            )
    return NewApiToken(token, secret)


def revoke_api_token(token: ApiToken, *, by: User | None = None) -> bool:
    """Revoke ``token`` for good. Returns whether it was active. ``by``: who revoked it,
    in the audit log."""
    now = timezone.now()
    with transaction.atomic():
        changed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
        if changed:
            token.revoked_at = now
            if by is not None:
                record_audit(by, "revoke_api_token", "api_token", token.prefix, details={"name": token.name})
    return bool(changed)


def record_api_token_use(token: ApiToken) -> None:
    """Note that ``token`` was used now, unless that was noted less than a minute ago."""
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_PRECISION:
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
