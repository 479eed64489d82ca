"""Bearer tokens with scopes (docs/API.md §Auth).

``Authorization: Bearer <secret>``: a missing, unknown or revoked secret is 401 (70003);
a token without the operation's scope is 403 (10007). The session cookie plays no
part, so CSRF does not apply: a call carries its own credential, never one a browser
adds by itself.
"""

from ninja.errors import AuthorizationError
from ninja.security import HttpBearer

from messaging import actions
from messaging.queries.api_tokens import active_api_token


class ScopeRefused(AuthorizationError):
    def __init__(self, scope):
        super().__init__(message=f"this token does not have the {scope!r} scope")


class TokenAuth(HttpBearer):
    """The token, when it has ``scope``; ``request.auth`` is the ApiToken."""

    def __init__(self, scope: str):
        super().__init__()
        self.scope = scope

    def authenticate(self, request, token):
        api_token = active_api_token(token)
        if api_token is None:
            return None
        if self.scope not in api_token.scopes:
            raise ScopeRefused(self.scope)
        actions.record_api_token_use(api_token)
        return api_token


USERS, MESSAGES, GROUPS, MODERATION = (TokenAuth(scope) for scope in ("users", "messages", "groups", "moderation"))
