"""resendMessage over the socket (issue 7 item 2): the server committed the message but
the reply was lost with the connection; the SDK's outbox resends it with the same ID
on a new socket. Exactly one message is stored, the peer gets it once, and the reply
to the resend is the stored message (docs/PROTOCOL.md, sendMessage "Idempotency")."""

import asyncio
import json

import pytest
from channels.db import database_sync_to_async

from messaging.models import Message
from tests.chat_helpers import fast_passwords, make_group  # noqa: F401
from tests.ws import events_named

pytestmark = pytest.mark.django_db(transaction=True)


async def stored_with_id(msg_id, timeout=3):
    """Wait until the server has committed the message with this client ID."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        rows = await database_sync_to_async(lambda: list(Message.objects.filter(msg_id=msg_id).values("pk", "seq")))()
        if rows:
            return rows
        await asyncio.sleep(0.02)
    raise AssertionError(f"message {msg_id} was never stored")


async def send_and_lose_the_reply(tab, message):
    """Send the frame, wait for the commit, and close the socket before reading anything."""
    await tab.communicator.send_to(text_data=json.dumps({"id": 1, "op": "sendMessage", "args": {"message": message}}))
    rows = await stored_with_id(message["ID"])
    await tab.close()
    return rows


@pytest.mark.parametrize(
    ("conversation_type", "to", "peer_conversation"), [("C2C", "bob", "C2Calice"), ("GROUP", "g1", "GROUPg1")]
)
async def test_a_resend_after_a_lost_reply_stores_once_and_delivers_once(
    open_tab, alice, bob, conversation_type, to, peer_conversation
):
    if conversation_type == "GROUP":
        await database_sync_to_async(make_group)(alice, group_type="Public", members=["bob"])
    b = await open_tab(bob)
    await b.drain()
    message = {
        "ID": "alice-1700000000-42",
        "to": to,
        "conversationType": conversation_type,
        "type": "TIMTextElem",
        "payload": {"text": "did it arrive?"},
        "random": 42,
        "clientTime": 1700000000,
    }
    [first] = await send_and_lose_the_reply(await open_tab(alice), message)

    again = await open_tab(alice)
    reply = await again.request("sendMessage", message=message)

    stored = reply["message"]
    assert (stored["ID"], stored["sequence"], stored["status"], stored["flow"]) == (message["ID"], first["seq"], "success", "out")
    assert stored["payload"] == {"text": "did it arrive?"}
    assert await database_sync_to_async(Message.objects.filter(msg_id=message["ID"]).count)() == 1
    received = events_named(await b.drain(), "MESSAGE_RECEIVED")
    assert [[m["ID"] for m in batch] for batch in received] == [[message["ID"]]]
    assert received[0][0]["conversationID"] == peer_conversation
    assert await again.drain() == []  # a resend of a stored message sends no event
    history = await again.request("getMessageList", conversationID=f"{conversation_type}{to}")
    assert [m["ID"] for m in history["messageList"] if m["type"] == "TIMTextElem"] == [message["ID"]]
