"""A WebSocket test client for the chat protocol, over the real ASGI stack
(origin check, session auth, consumer)."""

import asyncio
import itertools
import json

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from chatsite.asgi import application
from tests.conftest import session_cookie


class ProtocolError(Exception):
    def __init__(self, code, message, data=None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.data = data


class Tab:
    """One browser tab of a user: requests get replies; pushes are queued as events."""

    def __init__(self, communicator):
        self.communicator = communicator
        self.ids = itertools.count(1)
        self.events = []
        self.hello = None
        self.pending = []
        self.bundled = 0

    @classmethod
    async def open(cls, user, *, origin="http://localhost", cookie=None, address=None, headers=()):
        """A tab of ``user`` with a new login session, or with the session ``cookie``
        (a ``sessionid`` value) shared with other tabs of the same browser; from the network
        ``address`` (the scope's client) when given, with extra ``headers``."""
        cookie = cookie or await database_sync_to_async(session_cookie)(user)
        communicator = WebsocketCommunicator(
            application,
            "/ws/chat/",
            headers=[(b"host", b"localhost"), (b"origin", origin.encode()), (b"cookie", f"sessionid={cookie}".encode())]
            + list(headers),
        )
        if address is not None:
            communicator.scope["client"] = [address, 50000]
        connected, _ = await communicator.connect()
        assert connected, "socket refused"
        tab = cls(communicator)
        tab.cookie = cookie
        frame = await tab._receive()
        assert frame["event"] == "hello"
        tab.hello = frame["data"]
        frame = await tab._receive()
        assert frame["event"] == "TOTAL_UNREAD_MESSAGE_COUNT_UPDATED"
        tab.initial_unread = frame["data"]
        return tab

    async def _receive(self, timeout=3):
        """The next logical frame. A MESSAGE_RECEIVED (or MESSAGE_REVOKED) frame that carries its
        conversation's patch and the new total (docs/PROTOCOL.md) is read as the three
        events the SDK fires for it, in its order."""
        if self.pending:
            return self.pending.pop(0)
        frame = json.loads(await self.communicator.receive_from(timeout=timeout))
        if frame.get("event") in ("MESSAGE_RECEIVED", "MESSAGE_REVOKED", "MESSAGE_MODIFIED") and "conversation" in frame:
            self.bundled += 1
            self.pending.append({"event": "CONVERSATION_LIST_UPDATED", "data": [frame.pop("conversation")]})
            if "totalUnreadCount" in frame:
                self.pending.append({"event": "TOTAL_UNREAD_MESSAGE_COUNT_UPDATED", "data": frame.pop("totalUnreadCount")})
        return frame

    async def raw(self, text):
        await self.communicator.send_to(text_data=text)
        while True:
            frame = await self._receive()
            if "event" in frame:
                self.events.append(frame)
            else:
                return frame

    async def request(self, op, **args):
        request_id = next(self.ids)
        await self.communicator.send_to(text_data=json.dumps({"id": request_id, "op": op, "args": args}))
        while True:
            frame = await self._receive()
            if "event" in frame:
                self.events.append(frame)
                continue
            assert frame["id"] == request_id
            if not frame["ok"]:
                raise ProtocolError(frame["code"], frame["message"], frame.get("data"))
            return frame["data"]

    async def expect_error(self, code, op, **args):
        try:
            await self.request(op, **args)
        except ProtocolError as error:
            assert error.code == code, f"expected {code}, got {error.code}: {error.message}"
            return error
        raise AssertionError(f"{op} succeeded; expected error {code}")

    async def send_text(self, to, text, conversation_type="C2C", **message):
        message = {"to": to, "conversationType": conversation_type, "type": "TIMTextElem", "payload": {"text": text}, **message}
        return (await self.request("sendMessage", message=message))["message"]

    async def drain(self, settle=0.15):
        """Collect pushes until the socket is quiet for ``settle`` seconds; return and clear them."""
        # receive_nothing, not a receive timeout: asgiref cancels the app on a timeout.
        while self.pending or not await self.communicator.receive_nothing(timeout=settle):
            self.events.append(await self._receive())
        events, self.events = self.events, []
        return events

    async def wait_event(self, name, timeout=3):
        """The first pushed event called ``name`` (earlier ones are kept for drain)."""
        for index, frame in enumerate(self.events):
            if frame["event"] == name:
                return self.events.pop(index)["data"]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await self._receive(timeout=max(0.01, deadline - loop.time()))
            if frame.get("event") == name:
                return frame["data"]
            self.events.append(frame)

    async def close(self):
        await self.communicator.disconnect()


def events_named(events, name):
    return [e["data"] for e in events if e["event"] == name]
