"""sync (docs/PROTOCOL.md §5.21, §8): every change after the client's cursors, in bounded
pages, and nothing the user may not see. The state a client rebuilds from an old
snapshot plus sync equals a fresh fetch."""

import pytest

from messaging import actions
from messaging.errors import ErrorCode
from messaging.queries import conversation_list, groups, message_list
from messaging.queries.sync import sync
from tests.chat_helpers import (
    assert_refused,
    fast_passwords,  # noqa: F401
    make_group,
    send_group_text,
    send_text,
)

pytestmark = pytest.mark.django_db


def cursors_of(user):
    """What a client has after getConversationList: each conversation's syncCursor."""
    return {c["conversationID"]: c["syncCursor"] for c in conversation_list.get_conversation_list(user)}


def sync_all(user, cursors):
    """Page through sync as a client does; (every page's conversations, the last page)."""
    cursors, pages = dict(cursors), []
    for _ in range(100):
        page = sync(user, cursors)
        pages.append(page)
        for entry in page["conversations"]:
            cursors[entry["conversationID"]] = entry["syncCursor"]
        if page["isSyncCompleted"]:
            return pages, cursors
    raise AssertionError("sync never completed")


def messages_of(pages, conversation_id, field="messageList"):
    return [
        m for page in pages for entry in page["conversations"] if entry["conversationID"] == conversation_id for m in entry[field]
    ]


def full_history(user, conversation_id):
    """Every message of the conversation, oldest first, paging back as a client does."""
    messages, cursor = [], None
    while True:
        page = message_list.get_message_list(user, conversation_id, next_req_message_id=cursor)
        messages = page["messageList"] + messages
        if page["isCompleted"]:
            return messages
        cursor = page["nextReqMessageID"]


def apply(known, pages, conversation_id):
    """A client's history after applying sync: by ID, new ones added, changed ones replaced."""
    by_id = {m["ID"]: m for m in known}
    for message in messages_of(pages, conversation_id) + messages_of(pages, conversation_id, "changedList"):
        by_id[message["ID"]] = message
    return sorted(by_id.values(), key=lambda m: m["sequence"])


def test_a_client_that_missed_messages_and_a_recall_gets_them_and_ends_as_a_fresh_fetch(alice, bob):
    send_text(alice, "bob", "seen 1")
    seen = send_text(alice, "bob", "seen 2")
    known, cursors = full_history(bob, "C2Calice"), cursors_of(bob)

    missed = [send_text(alice, "bob", f"missed {n}") for n in range(3)]
    actions.revoke_message(alice, "C2Cbob", seen.msg_id)
    actions.revoke_message(alice, "C2Cbob", missed[1].msg_id)
    actions.mark_read(alice, "C2Cbob")

    pages, _ = sync_all(bob, cursors)

    [page] = pages
    [entry] = page["conversations"]
    # The three new messages by sequence (one of them recalled since), then the known one recalled.
    assert [(m["sequence"], m["isRevoked"]) for m in entry["messageList"]] == [(3, False), (4, True), (5, False)]
    assert [(m["sequence"], m["isRevoked"]) for m in entry["changedList"]] == [(2, True)]
    assert all(m["conversationID"] == "C2Calice" and m["flow"] == "in" for m in entry["messageList"] + entry["changedList"])
    assert "missed 1" not in str(entry) and "seen 2" not in str(entry)
    assert entry["syncCursor"] == 7 == conversation_list.get_conversation_list(bob)[0]["syncCursor"]
    assert apply(known, pages, "C2Calice") == full_history(bob, "C2Calice")
    assert page["conversationList"] == conversation_list.get_conversation_list(bob)
    assert page["groupList"] == groups.get_group_list(bob)
    assert sync(bob, {"C2Calice": entry["syncCursor"]})["conversations"] == []


def test_the_senders_own_view_has_is_peer_read(alice, bob):
    mine = send_text(alice, "bob", "read me")
    cursors = cursors_of(alice)
    actions.revoke_message(alice, "C2Cbob", send_text(alice, "bob", "oops").msg_id)
    actions.mark_read(bob, "C2Calice")

    [message] = messages_of(sync_all(alice, cursors)[0], "C2Cbob")
    assert (message["flow"], message["isPeerRead"], message["isRevoked"]) == ("out", True, True)
    assert mine.seq < message["sequence"]


def test_pages_are_bounded_and_together_hold_every_change_once_in_order(alice, bob, carol, settings):
    settings.CHAT = {"SYNC_PAGE_SIZE": 3}
    make_group(alice, members=["bob", "carol"])
    send_text(carol, "bob", "hi")
    cursors = cursors_of(bob)
    for n in range(4):
        send_group_text(alice, "g1", f"group {n}")
        send_text(carol, "bob", f"c2c {n}")

    pages, final = sync_all(bob, cursors)

    assert len(pages) == 3 and [p["isSyncCompleted"] for p in pages] == [False, False, True]
    assert all(sum(len(e["messageList"]) for e in p["conversations"]) <= 3 for p in pages)
    assert "conversationList" not in pages[0] and "groupList" not in pages[1]
    for conversation_id in ("GROUPg1", "C2Ccarol"):
        got = [m["payload"]["text"] for m in messages_of(pages, conversation_id)]
        assert got == [f"{conversation_id[:5].replace('GROUP', 'group').replace('C2Cca', 'c2c')} {n}" for n in range(4)]
    assert final == cursors_of(bob)


def test_a_conversation_new_to_the_client_brings_its_unread_messages_only(alice, bob, carol, settings):
    settings.CHAT = {"SYNC_NEW_CONVERSATION_MESSAGES": 2}
    send_text(carol, "bob", "old, read")
    actions.mark_read(bob, "C2Ccarol")
    send_text(carol, "bob", "unread 1")
    send_text(carol, "bob", "unread 2")
    send_text(carol, "bob", "unread 3")
    send_text(alice, "bob", "quiet")
    actions.mark_read(bob, "C2Calice")

    [page] = sync_all(bob, {})[0]

    [entry] = page["conversations"]  # alice's conversation has nothing unread: listed only
    assert entry["conversationID"] == "C2Ccarol" and entry["syncCursor"] == 4
    assert [m["payload"]["text"] for m in entry["messageList"]] == ["unread 2", "unread 3"]
    assert {c["conversationID"] for c in page["conversationList"]} == {"C2Ccarol", "C2Calice"}


def test_a_new_conversation_that_does_not_fit_the_page_waits_for_the_next(alice, bob, carol, settings):
    settings.CHAT = {"SYNC_PAGE_SIZE": 3}
    for n in range(2):
        send_text(alice, "bob", f"alice {n}")
        send_text(carol, "bob", f"carol {n}")

    pages, final = sync_all(bob, {})

    assert [sorted(e["conversationID"] for e in p["conversations"]) for p in pages] == [["C2Calice"], ["C2Ccarol"]]
    assert final == cursors_of(bob)


def test_a_group_member_gets_nothing_from_before_joining_nor_after_leaving(alice, bob, carol):
    make_group(alice, group_type="Public", members=["bob"])
    send_group_text(alice, "g1", "before carol")
    actions.join_group(carol, "g1")
    cursors = {"GROUPg1": 0}

    [page] = sync_all(carol, cursors)[0]
    texts = [m["payload"].get("text") for m in messages_of([page], "GROUPg1")]
    assert "before carol" not in texts and texts[-1] is None  # her join tip only

    bob_cursors = cursors_of(bob)
    actions.quit_group(bob, "g1")
    send_group_text(alice, "g1", "after bob")
    [page] = sync_all(bob, bob_cursors)[0]
    # Nothing of the group; only his own "You left" notice, in the system conversation.
    assert [c["conversationID"] for c in page["conversations"]] == ["@TIM#SYSTEM"]
    assert [m["payload"]["operationType"] for m in page["conversations"][0]["messageList"]] == [8]
    assert [c["conversationID"] for c in page["conversationList"]] == ["@TIM#SYSTEM"]


def test_changes_the_user_cannot_see_only_move_the_cursor(alice, bob, carol):
    make_group(alice, group_type="Public", members=["bob"])
    send_group_text(alice, "g1", "before carol")
    actions.join_group(carol, "g1")
    actions.revoke_message(alice, "GROUPg1", send_group_text(alice, "g1", "x").msg_id)
    pre_join = list(conversation_list.get_conversation_list(carol))[0]["syncCursor"]
    old = [m for m in full_history(alice, "GROUPg1") if m["payload"].get("text") == "before carol"][0]
    actions.revoke_message(alice, "GROUPg1", old["ID"])

    [page] = sync_all(carol, {"GROUPg1": pre_join})[0]

    assert page["conversations"] == [
        {"conversationID": "GROUPg1", "syncCursor": pre_join + 1, "messageList": [], "changedList": []}
    ]


def test_a_cursor_the_server_cannot_serve_asks_for_a_resync(alice, bob, settings):
    send_text(alice, "bob", "one")
    assert_refused(ErrorCode.RESYNC_REQUIRED, sync, bob, {"C2Calice": 2})  # ahead: the server lost data
    settings.CHAT = {"SYNC_MAX_GAP": 2}
    send_text(alice, "bob", "two")
    send_text(alice, "bob", "three")
    assert_refused(ErrorCode.RESYNC_REQUIRED, sync, bob, {"C2Calice": 0})
    assert sync(bob, {"C2Calice": 1})["isSyncCompleted"]


def test_a_cursor_for_someone_elses_conversation_reads_nothing(alice, bob, carol):
    send_text(alice, "bob", "private")
    make_group(alice, members=["bob"])
    send_group_text(alice, "g1", "members only")

    [page] = sync_all(carol, {"C2Calice": 0, "C2Cbob": 0, "GROUPg1": 0, "nonsense": 0})[0]

    assert page["conversations"] == [] and page["conversationList"] == [] and page["groupList"] == []


@pytest.mark.parametrize("conversations", [2, 6])
def test_a_page_is_a_fixed_number_of_queries(alice, bob, carol, dave, django_assert_num_queries, conversations):
    peers = [alice, carol, dave][: conversations // 2]
    groups_made = conversations - len(peers)
    for n in range(groups_made):
        make_group(alice, group_id=f"g{n}", members=["bob"])
        actions.set_member_name_card(alice, f"g{n}", None, "Al")
    for peer in peers:
        send_text(peer, "bob", "hi")
    cursors = cursors_of(bob)
    for peer in peers:
        send_text(peer, "bob", "again")
    for n in range(groups_made):
        send_group_text(alice, f"g{n}", "again")
    send_text(alice, "bob", "and again")
    new_cursors = dict(cursors)
    new_cursors.pop(next(iter(new_cursors)))  # one conversation new to the client

    # conversations; named changes; new conversations' messages; the group messages' senders'
    # name cards (one for all of them); the messages' reactions (none: no query for their
    # users); the list (rows, mentions); groups.
    with django_assert_num_queries(8):
        page = sync(bob, new_cursors)
    assert page["isSyncCompleted"] and len(page["conversations"]) == conversations
    group_messages = [m for c in page["conversations"] if c["conversationID"].startswith("GROUP") for m in c["messageList"]]
    assert group_messages and {m["nameCard"] for m in group_messages if m["from"] == "alice"} == {"Al"}


def test_the_last_page_gives_the_sockets_unread_state_and_group_threads_as_at_connect(alice, bob, carol, dave):
    """A socket counts its total again, and follows its groups again, from a completed
    sync (sync_for_socket): the same state the socket reads when it opens, whatever the
    rows: unread, read, deleted and shown again, muted, a group left."""
    from messaging.queries.sync import sync_for_socket

    for sender in (bob, carol, dave):
        send_text(sender, "alice", "hi")
    make_group(bob, "Public", "g1", members=["alice"])
    make_group(bob, "Public", "g2", members=["alice"])
    send_group_text(bob, "g1", "one")
    actions.mark_read(alice, "C2Cbob")
    actions.set_message_remind_type(alice, user_ids=["carol"], remind_type="AcceptNotNotify")
    actions.delete_conversation(alice, "C2Cdave")
    send_text(dave, "alice", "again")  # shows the deleted conversation again
    actions.quit_group(alice, "g2")

    page = sync_for_socket(alice, {})
    assert page.reply["isSyncCompleted"]
    unread, muted = page.unread_state
    assert (unread, muted) == conversation_list.get_unread_state(alice)
    assert unread == {"C2Ccarol": 1, "C2Cdave": 1, "GROUPg1": 1} and muted == {"C2Ccarol"}
    assert sorted(page.thread_ids) == sorted(groups.get_group_thread_ids(alice))
    assert len(page.thread_ids) == 1
