"""The WebSocket's session authentication: Channels' ``AuthMiddlewareStack`` in one step.

``AuthMiddlewareStack`` is three middlewares (cookies, session, user), each of which
copies the scope and awaits the next for as long as the socket is open: three scope
dicts, three coroutine frames and a lazy wrapper per layer, held by every idle socket
(docs/PERFORMANCE.md, "Issue #10: memory per idle socket"). This one reads the session
cookie, loads the session and its user (Channels' ``get_user``: the same checks,
including the session hash), and passes one scope with ``session`` and ``user`` on.
"""

from importlib import import_module

from channels.auth import get_user
from django.conf import settings
from django.http import parse_cookie


class SessionAuthMiddleware:
    def __init__(self, inner):
        self.inner = inner
        self.session_store = import_module(settings.SESSION_ENGINE).SessionStore

    async def __call__(self, scope, receive, send):
        header = next((value for name, value in scope.get("headers", ()) if name == b"cookie"), None)
        cookies = parse_cookie(header.decode("latin1")) if header is not None else {}
        session = self.session_store(cookies.get(settings.SESSION_COOKIE_NAME))
        user = await get_user({"session": session})
        return await self.inner(dict(scope, session=session, user=user), receive, send)
