"""Reads: pinned query counts that do not grow with the data, pagination, list shapes."""

import pytest

from messaging import actions
from messaging.errors import ChatError
from messaging.models import Group
from messaging.queries.conversation_list import get_conversation_list, get_total_unread_count
from messaging.queries.friends import get_blacklist, get_friend_application_list, get_friend_list
from messaging.queries.group_applications import get_group_application_list
from messaging.queries.groups import get_group_list, get_group_member_list, get_group_member_profile, search_group_by_id
from messaging.queries.message_list import get_message_list
from tests.chat_helpers import (
    fast_passwords,  # noqa: F401
    make_group,
    send_group_text,
    send_text,
)

pytestmark = pytest.mark.django_db

SIZES = [3, 40]


def bulk_users(prefix, n):
    """Users without a password (no hashing: fast), made by the action."""
    return [actions.create_user(f"{prefix}{i:03d}", nick=f"{prefix.title()} {i}") for i in range(n)]


def texts(page):
    return [m["payload"]["text"] for m in page["messageList"]]


# --- query counts -----------------------------------------------------------------------


@pytest.mark.parametrize("n", SIZES)
def test_message_list_first_page_is_2_queries(alice, bob, django_assert_num_queries, n):
    for i in range(n):
        send_text(alice if i % 2 else bob, "bob" if i % 2 else "alice", f"m{i}")

    with django_assert_num_queries(2):
        page = get_message_list(bob, "C2Calice")

    assert len(page["messageList"]) == min(n, 15)


@pytest.mark.parametrize("n", SIZES)
def test_message_list_page_after_a_cursor_is_3_queries(alice, bob, django_assert_num_queries, n):
    for i in range(n):
        send_text(alice, "bob", f"m{i}")
    cursor = get_message_list(bob, "C2Calice", count=2)["nextReqMessageID"]

    with django_assert_num_queries(3):
        page = get_message_list(bob, "C2Calice", next_req_message_id=cursor)

    assert texts(page)[-1] == f"m{n - 3}"


@pytest.mark.parametrize("n", SIZES)
def test_group_message_list_is_3_queries(alice, bob, carol, django_assert_num_queries, n):
    """The conversation, the page, the page's senders' name cards (one query, not one per message)."""
    make_group(alice, members=["bob", "carol"])
    actions.set_member_name_card(carol, "g1", None, "Cee")
    for i in range(n):
        send_group_text((alice, bob, carol)[i % 3], "g1", f"m{i}")

    with django_assert_num_queries(3):
        page = get_message_list(bob, "GROUPg1")

    assert {(m["from"], m["nameCard"]) for m in page["messageList"] if m["type"] == "TIMTextElem"} == {
        ("alice", ""),
        ("bob", ""),
        ("carol", "Cee"),
    }


def populate_conversations(user, n):
    """n conversations for ``user``: half C2C (peers made in bulk), half groups, each with a message."""
    peers = bulk_users("peer", n - n // 2)
    for peer in peers:
        send_text(peer, user.username, f"from {peer.username}")
    for i in range(n // 2):
        make_group(user, group_type="Public", group_id=f"grp{i}", members=[peers[0].username])
        send_group_text(peers[0], f"grp{i}", f"in grp{i}")


@pytest.mark.parametrize("n", SIZES)
def test_conversation_list_is_2_queries(alice, django_assert_num_queries, n):
    """The rows, and the mentions (groupAtInfoList) of the group conversations among them."""
    populate_conversations(alice, n)

    with django_assert_num_queries(2):
        listed = get_conversation_list(alice)

    # n chats, and the system conversation (the notices of the groups alice was added to)
    assert len(listed) == n + 1
    assert {c["type"] for c in listed} == {"C2C", "GROUP", "@TIM#SYSTEM"}


@pytest.mark.parametrize("n", SIZES)
def test_total_unread_count_is_1_query(alice, django_assert_num_queries, n):
    populate_conversations(alice, n)

    with django_assert_num_queries(1):
        total = get_total_unread_count(alice)

    assert total == n


@pytest.mark.parametrize("n", SIZES)
def test_group_list_is_1_query(alice, bob, django_assert_num_queries, n):
    for i in range(n):
        make_group(alice, group_type=("Private", "Public", "ChatRoom")[i % 3], group_id=f"grp{i:03d}", members=["bob"])

    with django_assert_num_queries(1):
        listed = get_group_list(bob)

    assert len(listed) == n
    assert all(g["ownerID"] == "alice" and g["selfInfo"]["role"] == "Member" for g in listed)


@pytest.mark.parametrize("n", SIZES)
def test_group_member_list_is_3_queries(alice, django_assert_num_queries, n):
    peers = bulk_users("peer", n)
    make_group(alice, group_type="Public", members=[p.username for p in peers])

    with django_assert_num_queries(3):
        result = get_group_member_list(alice, "g1")

    assert len(result["memberList"]) == n + 1
    assert result["memberList"][0] == {**result["memberList"][0], "userID": "alice", "role": "Owner"}


@pytest.mark.parametrize("n", SIZES)
def test_group_member_profile_is_3_queries(alice, django_assert_num_queries, n):
    peers = bulk_users("peer", n)
    make_group(alice, group_type="Public", members=[p.username for p in peers])
    asked = [p.username for p in peers][:50]

    with django_assert_num_queries(3):  # group; the caller's membership; the named members with their users
        result = get_group_member_profile(alice, "g1", asked)

    assert [m["userID"] for m in result["memberList"]] == asked


# The relationship chain (queries/friends.py): one query each, whatever the list's size.


def friends_of(user, n, *, remark="r"):
    """``n`` two-way friends of ``user`` who allow anyone, half of them with a remark,
    and ``n`` pending requests to ``user``."""
    for i, other in enumerate(bulk_users("f", n)):
        actions.set_allow_type(other, "AllowType_Type_AllowAny")
        actions.add_friend(user, other.username, remark=remark if i % 2 else "")
    for other in bulk_users("asker", n):
        actions.add_friend(other, user.username, wording="hi")


@pytest.mark.parametrize("n", SIZES)
def test_friend_list_is_1_query(alice, django_assert_num_queries, n):
    friends_of(alice, n)

    with django_assert_num_queries(1):
        friends = get_friend_list(alice.pk)
    assert len(friends) == n
    assert {f["remark"] for f in friends} == {"", "r"}
    assert all(f["profile"]["nick"] for f in friends)


@pytest.mark.parametrize("n", SIZES)
def test_friend_application_list_and_the_block_list_are_1_query_each(alice, django_assert_num_queries, n):
    friends_of(alice, n)
    actions.add_to_blacklist(alice, [u.username for u in bulk_users("blocked", n)])

    with django_assert_num_queries(1):
        applications = get_friend_application_list(alice.pk)
    with django_assert_num_queries(1):
        blacklist = get_blacklist(alice.pk)
    assert applications["unreadCount"] == len(applications["friendApplicationList"]) == n
    assert len(blacklist) == n


@pytest.mark.parametrize("n", SIZES)
def test_conversation_list_with_remarks_is_still_2_queries(alice, django_assert_num_queries, n):
    friends_of(alice, n)
    for friend in get_friend_list(alice.pk):
        send_text(alice, friend["userID"], "hi")
    make_group(alice, group_type="Public", group_id="g1")
    send_group_text(alice, "g1", "hi")

    with django_assert_num_queries(2):
        conversations = get_conversation_list(alice)
    remarks = {f["userID"]: f["remark"] for f in get_friend_list(alice.pk)}
    assert {c["userProfile"]["userID"]: c["remark"] for c in conversations if c["type"] == "C2C"} == remarks


def test_search_group_by_id_is_1_query(alice, bob, carol, django_assert_num_queries):
    """The group with its owner, thread and the caller's membership, for members and
    strangers, Public or Work (the stranger of a Work group gets 10010 from it)."""
    make_group(alice, group_type="Public", members=["bob"])
    make_group(alice, group_type="Private", group_id="w1", members=["bob"])

    for user, group_id in ((bob, "g1"), (bob, "w1"), (carol, "g1")):
        with django_assert_num_queries(1):
            search_group_by_id(user, group_id)


@pytest.mark.parametrize("n", SIZES)
def test_group_application_list_is_2_queries(alice, django_assert_num_queries, n):
    """The pending applications (with applicant and group), and the viewer's join-application
    notices since the oldest of them (each entry's ``message``)."""
    make_group(alice, group_type="Public")
    make_group(alice, group_type="Public", group_id="g2")
    for group_id in ("g1", "g2"):
        actions.update_group_profile(alice, group_id, join_option="NeedPermission")
    applicants = bulk_users("applicant", n)
    for i, applicant in enumerate(applicants):
        actions.join_group(applicant, ("g1", "g2")[i % 2], apply_message=f"please {i}")

    with django_assert_num_queries(2):
        listed = get_group_application_list(alice)

    assert listed["unreadCount"] == n
    assert [a["fromUser"] for a in listed["applicationList"]] == [a.username for a in applicants]
    assert all(a["message"]["payload"]["operatorID"] == a["fromUser"] for a in listed["applicationList"])


def test_system_conversation_counts_apart_from_the_total(alice, bob, django_assert_num_queries):
    """The system conversation is listed with its own unread count; the total leaves it out."""
    make_group(alice, group_type="Public")
    actions.update_group_profile(alice, "g1", join_option="NeedPermission")
    send_text(bob, "alice", "hi")
    actions.join_group(bob, "g1")

    listed = {c["conversationID"]: c for c in get_conversation_list(alice)}
    # "You created g1" and bob's application
    assert listed["@TIM#SYSTEM"]["unreadCount"] == 2 and listed["@TIM#SYSTEM"]["type"] == "@TIM#SYSTEM"
    with django_assert_num_queries(1):
        assert get_total_unread_count(alice) == 1


# --- message list pagination -----------------------------------------------------------


def fill(alice, n):
    return [send_text(alice, "bob", f"m{i}") for i in range(1, n + 1)]


def test_page_size_defaults_to_15_in_ascending_order(alice, bob):
    fill(alice, 20)

    page = get_message_list(bob, "C2Calice")

    assert texts(page) == [f"m{i}" for i in range(6, 21)]
    assert [m["sequence"] for m in page["messageList"]] == list(range(6, 21))
    assert page["isCompleted"] is False
    assert page["nextReqMessageID"] == page["messageList"][0]["ID"]


def test_count_above_15_is_capped_at_15(alice, bob):
    fill(alice, 20)
    assert len(get_message_list(bob, "C2Calice", count=50)["messageList"]) == 15


def test_smaller_count_is_honoured(alice, bob):
    fill(alice, 5)
    assert texts(get_message_list(bob, "C2Calice", count=2)) == ["m4", "m5"]


@pytest.mark.parametrize("count", [0, -1, "x", "5", 1.5, True])
def test_invalid_count_is_10004(alice, bob, count):
    fill(alice, 3)
    with pytest.raises(ChatError) as info:
        get_message_list(bob, "C2Calice", count=count)
    assert info.value.code == 10004


def walk(user, conversation_id, count=None):
    """Every page from the newest back, following nextReqMessageID."""
    pages = [get_message_list(user, conversation_id, count=count)]
    while not pages[-1]["isCompleted"]:
        pages.append(get_message_list(user, conversation_id, next_req_message_id=pages[-1]["nextReqMessageID"], count=count))
        assert len(pages) < 50, "pagination does not terminate"
    return pages


def test_next_req_message_id_walks_back_to_the_first_message_without_gaps(alice, bob):
    sent = fill(alice, 40)

    pages = walk(bob, "C2Calice")

    assert [len(p["messageList"]) for p in pages] == [15, 15, 10]
    ids = [m["ID"] for p in reversed(pages) for m in p["messageList"]]
    assert ids == [m.msg_id for m in sent]
    assert pages[-1]["isCompleted"] is True and pages[-1]["nextReqMessageID"] == ""


def test_walk_with_a_small_count_has_no_overlap(alice, bob):
    fill(alice, 7)
    pages = walk(bob, "C2Calice", count=3)
    assert [texts(p) for p in pages] == [["m5", "m6", "m7"], ["m2", "m3", "m4"], ["m1"]]


def test_exactly_15_messages_is_one_complete_page(alice, bob):
    fill(alice, 15)

    page = get_message_list(bob, "C2Calice")

    assert len(page["messageList"]) == 15
    assert page["isCompleted"] is True
    assert page["nextReqMessageID"] == ""


def test_16_messages_are_two_pages(alice, bob):
    fill(alice, 16)

    pages = walk(bob, "C2Calice")

    assert [texts(p) for p in pages] == [[f"m{i}" for i in range(2, 17)], ["m1"]]
    assert [p["isCompleted"] for p in pages] == [False, True]


def test_unknown_next_req_message_id_is_10004(alice, bob):
    fill(alice, 3)
    with pytest.raises(ChatError) as info:
        get_message_list(bob, "C2Calice", next_req_message_id="no-such-id")
    assert info.value.code == 10004


def test_next_req_message_id_from_another_conversation_is_10004(alice, bob, carol):
    other = send_text(carol, "bob", "elsewhere")
    fill(alice, 3)
    with pytest.raises(ChatError) as info:
        get_message_list(bob, "C2Calice", next_req_message_id=other.msg_id)
    assert info.value.code == 10004


def test_empty_c2c_conversation_is_an_empty_complete_page(alice, bob):
    assert get_message_list(alice, "C2Cbob") == {"messageList": [], "nextReqMessageID": "", "isCompleted": True}


def test_message_list_is_seen_from_the_viewer(alice, bob):
    send_text(alice, "bob", "hi")
    send_text(bob, "alice", "yo")

    mine = get_message_list(alice, "C2Cbob")["messageList"]
    theirs = get_message_list(bob, "C2Calice")["messageList"]

    assert [m["flow"] for m in mine] == ["out", "in"]
    assert [m["flow"] for m in theirs] == ["in", "out"]
    assert {m["conversationID"] for m in mine} == {"C2Cbob"}
    assert {m["conversationID"] for m in theirs} == {"C2Calice"}
    assert [(m["from"], m["to"]) for m in mine] == [("alice", "bob"), ("bob", "alice")]


def test_is_peer_read_follows_the_peers_read_cursor(alice, bob):
    send_text(alice, "bob", "one")
    actions.mark_read(bob, "C2Calice")
    send_text(alice, "bob", "two")

    listed = get_message_list(alice, "C2Cbob")["messageList"]

    assert [m["isPeerRead"] for m in listed] == [True, False]


# --- conversation list ------------------------------------------------------------------


def test_conversation_list_is_pinned_first_then_most_recent(alice, bob, carol, dave):
    send_text(bob, "alice", "oldest")
    send_text(carol, "alice", "middle")
    send_text(dave, "alice", "newest")
    actions.pin_conversation(alice, "C2Cbob", True)

    assert [c["conversationID"] for c in get_conversation_list(alice)] == ["C2Cbob", "C2Cdave", "C2Ccarol"]


def test_conversation_list_shows_at_most_100_of_the_most_recent(alice):
    peers = bulk_users("peer", 105)
    for peer in peers:  # peer000 writes first, peer104 last
        send_text(peer, "alice", f"from {peer.username}")
    actions.pin_conversation(alice, "C2Cpeer000", True)

    listed = [c["conversationID"] for c in get_conversation_list(alice)]

    assert len(listed) == 100
    assert listed[0] == "C2Cpeer000"  # pinned, though the oldest
    assert listed[1:] == [f"C2Cpeer{i:03d}" for i in range(104, 5, -1)]


def test_conversation_list_entry_carries_unread_and_last_message(alice, bob):
    send_text(alice, "bob", "first")
    last = send_text(alice, "bob", "second")

    [entry] = get_conversation_list(bob)

    assert entry["conversationID"] == "C2Calice"
    assert entry["type"] == "C2C"
    assert entry["unreadCount"] == 2
    assert entry["lastMessage"]["ID"] == last.msg_id
    assert entry["lastMessage"]["messageForShow"] == "second"
    assert entry["lastMessage"]["fromAccount"] == "alice"
    assert entry["lastMessage"]["lastSequence"] == 2
    assert entry["userProfile"] == {"userID": "alice", "nick": "Alice", "avatar": ""}
    assert entry["groupProfile"] is None


def test_group_conversation_entry_carries_the_group_profile(alice, bob):
    make_group(alice, group_type="Public", members=["bob"], name="Launch")
    send_group_text(alice, "g1", "go")

    [entry, notices] = get_conversation_list(bob)
    assert notices["lastMessage"]["messageForShow"] == "alice added you to Launch"

    assert entry["conversationID"] == "GROUPg1"
    assert (entry["type"], entry["subType"]) == ("GROUP", "Public")
    assert entry["userProfile"] is None
    profile = entry["groupProfile"]
    assert (profile["groupID"], profile["name"], profile["ownerID"], profile["memberCount"]) == ("g1", "Launch", "alice", 2)
    assert entry["lastMessage"]["messageForShow"] == "go"


def test_group_tip_shows_as_words_in_the_conversation_list(alice, bob):
    make_group(alice, members=["bob"])

    [entry] = [c for c in get_conversation_list(bob) if c["conversationID"] == "GROUPg1"]

    assert entry["lastMessage"]["type"] == "TIMGroupTipElem"
    assert entry["lastMessage"]["messageForShow"] == "Alice invited Bob to the group"


def test_total_unread_skips_hidden_conversations_and_meeting_groups(alice, bob, carol):
    make_group(alice, group_type="ChatRoom", group_id="meet", members=["bob"])
    send_group_text(alice, "meet")
    send_text(alice, "bob")
    send_text(carol, "bob")
    actions.delete_conversation(bob, "C2Ccarol")

    assert get_total_unread_count(bob) == 1


def test_group_list_shows_only_the_users_groups(alice, bob, carol):
    make_group(alice, group_id="a", members=["bob"])
    make_group(carol, group_id="c")

    assert [g["groupID"] for g in get_group_list(bob)] == ["a"]
    assert Group.objects.count() == 2
