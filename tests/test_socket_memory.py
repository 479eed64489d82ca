"""What an idle socket holds (issue #10, docs/PERFORMANCE.md "Issue #10: memory per idle socket").

Django keeps one ``DatabaseWrapper`` per async context: touching ``django.db.connection``
on the event loop inside a consumer made one per socket, about 3 KiB held for as long as
the socket stayed open. The consumer reads the database engine from the settings instead;
the wrappers made while sockets connect stay those of the database threads, however many
sockets there are.
"""

import pytest
from django.db.backends.base.base import BaseDatabaseWrapper

from messaging import conf

pytestmark = pytest.mark.django_db(transaction=True)


async def test_connecting_sockets_makes_no_database_wrapper_per_socket(open_tab, alice, bob, carol, monkeypatch):
    made = []
    original = BaseDatabaseWrapper.__init__

    def counting_init(self, *args, **kwargs):
        made.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(BaseDatabaseWrapper, "__init__", counting_init)
    sockets = 9
    for i in range(sockets):
        tab = await open_tab((alice, bob, carol)[i % 3])
        assert tab.hello is not None
    # At most one per database thread (and the test's own), not one per socket.
    assert len(made) <= conf.get("DB_THREADS") + 2 < sockets, f"{len(made)} DatabaseWrappers for {sockets} sockets"


def test_the_socket_stack_authenticates_in_one_middleware():
    """Channels' AuthMiddlewareStack held three scope copies and frames per socket."""
    from channels.routing import URLRouter

    from chatsite.asgi import application
    from chatsite.socket_auth import SessionAuthMiddleware

    origin_check = application.application_mapping["websocket"]
    auth = origin_check.application
    assert isinstance(auth, SessionAuthMiddleware)
    assert isinstance(auth.inner, URLRouter)


async def test_the_scope_user_is_resolved_and_a_bad_cookie_is_anonymous(alice):
    from channels.db import database_sync_to_async

    from chatsite.socket_auth import SessionAuthMiddleware
    from tests.conftest import session_cookie

    seen = []

    async def inner(scope, receive, send):
        seen.append(scope)

    cookie = await database_sync_to_async(session_cookie)(alice)
    middleware = SessionAuthMiddleware(inner)
    await middleware({"type": "websocket", "headers": [(b"cookie", f"sessionid={cookie}".encode())]}, None, None)
    await middleware({"type": "websocket", "headers": [(b"cookie", b"sessionid=nope")]}, None, None)
    await middleware({"type": "websocket", "headers": []}, None, None)
    assert seen[0]["user"].pk == alice.pk and seen[0]["session"].session_key == cookie
    # The User itself, not a lazy proxy: the consumer reads it for every delivery.
    assert type(seen[0]["user"]) is type(alice)
    assert [s["user"].is_authenticated for s in seen[1:]] == [False, False]
    # The socket keeps the session's key, not its loaded data (held for the socket's life).
    assert not hasattr(seen[0]["session"], "_session_cache")


async def test_the_session_and_user_load_in_the_chat_database_threads(monkeypatch):
    """Not in Channels' one thread-sensitive thread, where a reconnect storm's handshakes
    queued one after another (docs/PERFORMANCE.md, the storm)."""
    import threading
    from types import SimpleNamespace

    from django.contrib.auth.models import AnonymousUser

    from chatsite import socket_auth
    from messaging import consumers

    threads = []

    def load(scope):
        threads.append(threading.current_thread().name)
        return AnonymousUser()

    monkeypatch.setattr(consumers, "uses_postgresql", lambda: True)  # the pool is PostgreSQL's
    monkeypatch.setattr(socket_auth, "get_user", SimpleNamespace(func=load))

    async def inner(scope, receive, send):
        pass

    await socket_auth.SessionAuthMiddleware(inner)({"type": "websocket", "headers": []}, None, None)
    assert len(threads) == 1 and threads[0].startswith("chat-db"), threads


async def test_a_handshakes_user_read_takes_a_catch_up_slot(monkeypatch):
    """A storm's handshakes leave a database thread to the sockets that stayed: with every
    catch-up slot taken (syncs of other reconnecting sockets), the session and user read
    waits; once one is free it runs (docs/PERFORMANCE.md, the storm)."""
    import asyncio
    from types import SimpleNamespace

    from django.contrib.auth.models import AnonymousUser

    from chatsite import socket_auth
    from messaging import consumers

    loaded = []
    monkeypatch.setattr(socket_auth, "get_user", SimpleNamespace(func=lambda scope: loaded.append(1) or AnonymousUser()))

    async def inner(scope, receive, send):
        pass

    slots = consumers.catch_up_slots()
    taken = 0
    while not slots.locked():
        await slots.acquire()
        taken += 1
    handshake = asyncio.ensure_future(socket_auth.SessionAuthMiddleware(inner)({"type": "websocket", "headers": []}, None, None))
    await asyncio.sleep(0.1)
    assert loaded == [] and not handshake.done()
    slots.release()
    await asyncio.wait_for(handshake, 5)
    assert loaded == [1]
    for _ in range(taken - 1):
        slots.release()
