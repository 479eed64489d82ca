import pytest

from tests.ws import Tab, events_named

pytestmark = pytest.mark.django_db(transaction=True)


async def test_c2c_roundtrip(alice, bob):
    a, b = await Tab.open(alice), await Tab.open(bob)
    sent = await a.send_text("bob", "hi bob")
    assert sent["status"] == "success" and sent["sequence"] == 1 and sent["flow"] == "out"
    got = await b.wait_event("MESSAGE_RECEIVED")
    assert got[0]["payload"]["text"] == "hi bob" and got[0]["conversationID"] == "C2Calice" and got[0]["flow"] == "in"
    assert await b.wait_event("TOTAL_UNREAD_MESSAGE_COUNT_UPDATED") == 1
    lst = await b.request("getConversationList")
    assert lst["conversationList"][0]["unreadCount"] == 1
    await b.request("setMessageRead", conversationID="C2Calice")
    read = await a.wait_event("MESSAGE_READ_BY_PEER")
    assert read[0]["isPeerRead"] is True
    events = await b.drain()
    assert 0 in events_named(events, "TOTAL_UNREAD_MESSAGE_COUNT_UPDATED")
    await a.close()
    await b.close()
