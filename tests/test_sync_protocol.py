"""sync over the socket (docs/PROTOCOL.md §5.21, §8): live patches carry the change number
that a client's cursor follows, and a tab that was away catches up to exactly what a
fresh fetch shows."""

import contextlib

import pytest

from messaging import consumers
from tests.chat_helpers import fast_passwords  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


@contextlib.contextmanager
def events_lost(monkeypatch):
    """The events of the ops sent meanwhile never reach any socket, as when the channel
    layer (at most once) loses them."""

    async def lost(events):
        pass

    with monkeypatch.context() as patched:
        patched.setattr(consumers, "send_events", lost)
        yield


async def test_live_patches_carry_consecutive_change_numbers_from_the_listed_cursor(open_tab, alice, bob):
    a, b = await open_tab(alice), await open_tab(bob)
    first = await a.send_text("bob", "one")
    await b.wait_event("MESSAGE_RECEIVED")
    [listed] = (await b.request("getConversationList"))["conversationList"]
    await a.drain()
    await b.drain()

    second = await a.send_text("bob", "two")
    await b.wait_event("MESSAGE_RECEIVED")
    [patch] = await b.wait_event("CONVERSATION_LIST_UPDATED")
    assert patch["syncCursor"] == listed["syncCursor"] + 1 == second["sequence"]
    [own] = (await a.drain())[0]["data"]  # the sending tab's patch
    assert own["syncCursor"] == patch["syncCursor"]

    await a.request("revokeMessage", message={"ID": first["ID"], "conversationID": "C2Cbob"})
    await b.wait_event("MESSAGE_REVOKED")
    [patch] = await b.wait_event("CONVERSATION_LIST_UPDATED")
    assert patch["syncCursor"] == listed["syncCursor"] + 2


async def test_a_tab_that_was_away_syncs_to_what_a_fresh_fetch_shows(open_tab, alice, bob):
    a, b = await open_tab(alice), await open_tab(bob)
    kept = await a.send_text("bob", "before")
    await b.wait_event("MESSAGE_RECEIVED")
    old_list = (await b.request("getConversationList"))["conversationList"]
    cursors = {c["conversationID"]: c["syncCursor"] for c in old_list}
    await b.close()

    missed = [await a.send_text("bob", f"away {n}") for n in range(3)]
    await a.request("revokeMessage", message={"ID": kept["ID"], "conversationID": "C2Cbob"})

    b = await open_tab(bob)
    reply = await b.request("sync", cursors=cursors)

    assert reply["isSyncCompleted"]
    [entry] = reply["conversations"]
    assert [m["ID"] for m in entry["messageList"]] == [m["ID"] for m in missed]
    [recalled] = entry["changedList"]
    assert recalled["ID"] == kept["ID"] and recalled["isRevoked"]
    assert reply["conversationList"] == (await b.request("getConversationList"))["conversationList"]
    history = (await b.request("getMessageList", conversationID="C2Calice"))["messageList"]
    assert [recalled] + entry["messageList"] == history
    assert entry["syncCursor"] == reply["conversationList"][0]["syncCursor"]


async def test_bad_sync_arguments_get_error_replies(open_tab, alice, bob):
    a = await open_tab(alice)
    await a.send_text("bob", "one")
    await a.expect_error(10004, "sync", cursors={"C2Cbob": -1})
    await a.expect_error(10004, "sync", cursors=["C2Cbob"])
    await a.expect_error(10004, "sync", cursors={f"C2Cu{n}": 0 for n in range(1001)})
    await a.expect_error(2290, "sync", cursors={"C2Cbob": 99})


async def test_a_completed_sync_repairs_the_total_unread_count_an_event_lost(open_tab, alice, bob, monkeypatch):
    """The channel layer is at most once: a message event lost on its way to a socket
    leaves the socket's unread counts behind. The client's sync repairs the
    conversation's count (its conversation list); the socket counts again from the same
    page, and pushes the total when it changed, so the two agree again."""
    a, b = await open_tab(alice), await open_tab(bob)
    assert b.initial_unread == 0
    await a.send_text("bob", "one")
    assert await b.wait_event("TOTAL_UNREAD_MESSAGE_COUNT_UPDATED") == 1
    cursors = {c["conversationID"]: c["syncCursor"] for c in (await b.request("getConversationList"))["conversationList"]}
    await b.drain()

    with events_lost(monkeypatch):
        await a.send_text("bob", "two")
        await a.send_text("bob", "three")
    assert await b.drain() == []

    reply = await b.request("sync", cursors=cursors)
    assert reply["isSyncCompleted"]
    [listed] = reply["conversationList"]
    assert listed["unreadCount"] == 3
    assert await b.wait_event("TOTAL_UNREAD_MESSAGE_COUNT_UPDATED") == 3
    assert (await b.request("getTotalUnreadMessageCount"))["totalUnreadCount"] == 3

    # Nothing lost since: the next sync pushes no total.
    await b.drain()
    cursors = {listed["conversationID"]: listed["syncCursor"]}
    assert (await b.request("sync", cursors=cursors))["isSyncCompleted"]
    assert [f["event"] for f in await b.drain()] == []
    await a.send_text("bob", "four")
    assert await b.wait_event("TOTAL_UNREAD_MESSAGE_COUNT_UPDATED") == 4


async def test_a_completed_sync_follows_the_groups_an_event_lost_did_not_tell(open_tab, alice, bob, monkeypatch):
    """A socket follows its user's group threads from the membership events it receives;
    if the one that said "bob joined" is lost, bob's socket would never get the group's
    messages live. The last sync page's group threads are followed, so after the sync
    they come."""
    a, b = await open_tab(alice), await open_tab(bob)
    await a.request("createGroup", type="Public", name="Ops", groupID="g1")

    with events_lost(monkeypatch):
        await a.request("addGroupMember", groupID="g1", userIDList=["bob"])
    await a.send_text("g1", "before the sync", conversation_type="GROUP")
    assert [f["event"] for f in await b.drain()] == []

    reply = await b.request("sync", cursors={})
    assert reply["isSyncCompleted"] and [g["groupID"] for g in reply["groupList"]] == ["g1"]
    await b.drain()
    sent = await a.send_text("g1", "after the sync", conversation_type="GROUP")
    received = await b.wait_event("MESSAGE_RECEIVED")
    assert [m["ID"] for m in received] == [sent["ID"]]


async def test_only_the_last_sync_page_recounts(open_tab, alice, bob, settings, monkeypatch):
    """A page that is not the last (``isSyncCompleted: false``) reads no state for the
    socket: the total is pushed once, after the page that completes the sync."""
    settings.CHAT = {**settings.CHAT, "SYNC_PAGE_SIZE": 2}
    a, b = await open_tab(alice), await open_tab(bob)
    await a.send_text("bob", "one")
    assert await b.wait_event("TOTAL_UNREAD_MESSAGE_COUNT_UPDATED") == 1
    cursors = {c["conversationID"]: c["syncCursor"] for c in (await b.request("getConversationList"))["conversationList"]}
    await b.drain()

    with events_lost(monkeypatch):
        for n in range(3):
            await a.send_text("bob", f"lost {n}")

    first = await b.request("sync", cursors=cursors)
    assert not first["isSyncCompleted"]
    assert [f["event"] for f in await b.drain()] == []
    [entry] = first["conversations"]
    last = await b.request("sync", cursors={entry["conversationID"]: entry["syncCursor"]})
    assert last["isSyncCompleted"]
    assert await b.wait_event("TOTAL_UNREAD_MESSAGE_COUNT_UPDATED") == 4


async def test_a_completed_sync_stops_following_a_group_an_event_lost_did_not_tell(open_tab, alice, bob, monkeypatch):
    """The other way: bob was removed and the event was lost; his socket still followed
    the group's thread (its messages were dropped there, not addressed to him). After the
    sync it follows it no more."""
    from channels.layers import get_channel_layer

    from messaging.events import thread_group
    from messaging.models import Group

    a, b = await open_tab(alice), await open_tab(bob)
    await a.request("createGroup", type="Public", name="Ops", groupID="g1", memberList=[{"userID": "bob"}])
    await b.wait_event("GROUP_LIST_UPDATED")
    thread_id = (await Group.objects.aget(group_id="g1")).thread_id
    layer_groups = get_channel_layer().groups
    assert len(layer_groups.get(thread_group(thread_id), {})) == 2

    with events_lost(monkeypatch):
        await a.request("deleteGroupMember", groupID="g1", userIDList=["bob"])
    assert len(layer_groups.get(thread_group(thread_id), {})) == 2

    reply = await b.request("sync", cursors={})
    assert reply["isSyncCompleted"] and reply["groupList"] == []
    assert len(layer_groups.get(thread_group(thread_id), {})) == 1


@contextlib.contextmanager
def threads_unfollowable(monkeypatch):
    """The channel layer fails to add a socket to a group thread's group, as when Redis
    is away."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    group_add = layer.group_add

    async def failing(group, channel):
        if group.startswith("thread."):
            raise ConnectionError("Redis is away")
        return await group_add(group, channel)

    with monkeypatch.context() as patched:
        patched.setattr(layer, "group_add", failing)
        yield


async def closed_with(tab):
    """The close code the socket was closed with, the frames before it skipped."""
    while True:
        output = await tab.communicator.receive_output(timeout=3)
        if output["type"] == "websocket.close":
            return output.get("code")
        assert output["type"] == "websocket.send"
        assert '"ok":' not in output["text"], "no reply: the socket closes for a resync"


async def test_a_sync_that_cannot_follow_its_groups_closes_the_socket_for_a_resync(open_tab, alice, bob, monkeypatch):
    """The last page says bob is in g1, but the layer cannot add his socket to g1's thread
    (Redis away): the socket would miss g1's live messages without a word. It is closed
    with 4012 (docs/PROTOCOL.md §8), and the client syncs again when it is back."""
    a, b = await open_tab(alice), await open_tab(bob)
    await a.request("createGroup", type="Public", name="Ops", groupID="g1")
    with events_lost(monkeypatch):
        await a.request("addGroupMember", groupID="g1", userIDList=["bob"])
    await b.drain()

    with threads_unfollowable(monkeypatch):
        await b.communicator.send_to(text_data='{"id":1,"op":"sync","args":{"cursors":{}}}')
        assert await closed_with(b) == consumers.RESYNC_CLOSE_CODE


async def test_joining_a_group_the_socket_cannot_follow_closes_it_for_a_resync_and_the_others_still_hear(
    open_tab, alice, bob, monkeypatch
):
    """createGroup commits, then the requester's socket cannot follow the new group's
    thread: it is closed with 4012 instead of answering (and then missing the group's
    messages); the group exists, and the change's events still go to the others. Bob's
    socket, told by the event, cannot follow the thread either: 4012 too."""
    from messaging.models import Group

    a, b = await open_tab(alice), await open_tab(bob)
    published = []
    send_events = consumers.send_events

    async def recording(events):
        published.extend(events)
        await send_events(events)

    monkeypatch.setattr(consumers, "send_events", recording)
    with threads_unfollowable(monkeypatch):
        await a.communicator.send_to(
            text_data='{"id":1,"op":"createGroup","args":{"type":"Public","name":"Ops","groupID":"g2","memberList":[{"userID":"bob"}]}}'
        )
        assert await closed_with(a) == consumers.RESYNC_CLOSE_CODE
        assert await closed_with(b) == consumers.RESYNC_CLOSE_CODE
    assert await Group.objects.filter(group_id="g2").aexists()
    assert any(bob.pk in targets for _, targets in published)
