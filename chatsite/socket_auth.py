"""The WebSocket's session authentication: Channels' ``AuthMiddlewareStack`` in one step.

``AuthMiddlewareStack`` is three middlewares (cookies, session, user), each of which
copies the scope and awaits the next for as long as the socket is open: three scope
dicts, three coroutine frames and a lazy wrapper per layer, held by every idle socket
(docs/PERFORMANCE.md, "Issue #10: memory per idle socket"). This one reads the session
cookie, loads the session and its user (Channels' ``get_user``: the same checks,
including the session hash), and passes one scope with ``session`` and ``user`` on.

The session and the user are loaded in the chat's database threads (``in_database_thread``),
not in Channels' one thread-sensitive thread: in a reconnect storm a thousand handshakes
queued there one after another, and Daphne cut those not answered in time
(docs/PERFORMANCE.md, the storm). They take the slots of the catch-up reads
(``catch_up_slots``): a storm of handshakes queued ahead of the sends of the sockets that
stayed, in every database thread, held those sends for seconds.
"""

from importlib import import_module

from channels.auth import get_user
from django.conf import settings
from django.http import parse_cookie

from messaging.consumers import catch_up_slots, in_database_thread


class SessionAuthMiddleware:
    def __init__(self, inner):
        self.inner = inner
        self.session_store = import_module(settings.SESSION_ENGINE).SessionStore

    async def __call__(self, scope, receive, send):
        # This frame lives as long as the socket: it holds the new scope only, not the
        # cookies and the loaded session (``authenticate``'s frame is gone by then).
        return await self.inner(await self.authenticate(scope), receive, send)

    async def authenticate(self, scope):
        """The scope with ``user`` and ``session``: a store of the cookie's session key,
        not the one ``get_user`` loaded (its decoded data would stay with the socket)."""
        header = next((value for name, value in scope.get("headers", ()) if name == b"cookie"), None)
        session_key = parse_cookie(header.decode("latin1")).get(settings.SESSION_COOKIE_NAME) if header is not None else None
        async with catch_up_slots():  # a storm's handshakes leave a thread to the open sockets' ops
            user = await in_database_thread(get_user.func)({"session": self.session_store(session_key)})
        return dict(scope, session=self.session_store(session_key), user=user)
