"""The server API's token lookup: one query, by the secret's hash."""

from messaging.actions.api_tokens import SECRET_PREFIX, hash_secret
from messaging.models import ApiToken


def active_api_token(secret) -> ApiToken | None:
    """The unrevoked token whose secret is ``secret`` (its identifier selected), or None."""
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX) or len(secret) > 100:
        return None
    return (
        ApiToken.objects.select_related("identifier")
        .filter(key_hash=hash_secret(secret), revoked_at__isnull=True, identifier__is_active=True)
        .first()
    )
