"""Message reactions (docs/PROTOCOL.md §5.54–§5.57, §6.19): who may react and read, the
vendor's error codes, fixed query counts in a group of 1,000 with ONE small event, and
the events applied to what a client had equal a fresh getMessageReactions."""

from datetime import timedelta

import pytest
from django.utils import timezone

from messaging import actions, rules
from messaging.errors import ErrorCode
from messaging.models import MessageReaction
from messaging.queries import reactions
from messaging.schemas import MessageRef
from tests.chat_helpers import (  # noqa: F401
    assert_refused,
    fast_passwords,
    make_group,
    mute,
    send_group_text,
    send_text,
)
from tests.test_write_queries import group_of
from tests.ws import events_named


def ref(message, conversation_id):
    return MessageRef(ID=message.msg_id, conversationID=conversation_id)


def react(user, conversation_id, message, reaction_id="👍"):
    return actions.add_message_reaction(user, conversation_id, message.msg_id, reaction_id)


def unreact(user, conversation_id, message, reaction_id="👍"):
    return actions.remove_message_reaction(user, conversation_id, message.msg_id, reaction_id)


def summary(user, conversation_id, messages, n=10):
    return reactions.get_message_reactions(user, [ref(m, conversation_id) for m in messages], n)["resultList"]


# --- the actions -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_reacting_counts_users_in_order_and_says_whether_i_reacted(alice, bob, carol):
    make_group(alice, members=["bob", "carol"])
    msg = send_group_text(alice, "g1", "lunch?")

    reply = react(bob, "GROUPg1", msg)
    react(carol, "GROUPg1", msg)
    react(carol, "GROUPg1", msg, "[微笑]")

    assert reply["reactionList"] == [
        {
            "reactionID": "👍",
            "totalUserCount": 1,
            "partialUserList": [{"userID": "bob", "nick": "Bob", "avatar": ""}],
            "reactedByMyself": True,
        }
    ]
    [result] = summary(bob, "GROUPg1", [msg])
    assert result["messageID"] == msg.msg_id
    assert [(r["reactionID"], r["totalUserCount"], r["reactedByMyself"]) for r in result["reactionList"]] == [
        ("👍", 2, True),
        ("[微笑]", 1, False),
    ]
    assert [u["userID"] for u in result["reactionList"][0]["partialUserList"]] == ["bob", "carol"]
    assert [u["userID"] for u in summary(bob, "GROUPg1", [msg], n=1)[0]["reactionList"][0]["partialUserList"]] == ["bob"]
    assert summary(bob, "GROUPg1", [msg], n=0)[0]["reactionList"][0]["partialUserList"] == []

    unreact(bob, "GROUPg1", msg)
    [result] = summary(bob, "GROUPg1", [msg])
    assert [(r["reactionID"], r["totalUserCount"], r["reactedByMyself"]) for r in result["reactionList"]] == [
        ("👍", 1, False),
        ("[微笑]", 1, False),
    ]
    unreact(carol, "GROUPg1", msg)
    assert [r["reactionID"] for r in summary(alice, "GROUPg1", [msg])[0]["reactionList"]] == ["[微笑]"]


@pytest.mark.django_db
def test_c2c_both_parties_react_and_read(alice, bob, carol):
    msg = send_text(alice, "bob", "hi")
    react(bob, "C2Calice", msg, "❤️")
    react(alice, "C2Cbob", msg, "👨‍👩‍👧")
    mine = summary(alice, "C2Cbob", [msg])[0]["reactionList"]
    assert [(r["reactionID"], r["reactedByMyself"]) for r in mine] == [("❤️", False), ("👨‍👩‍👧", True)]
    assert_refused(ErrorCode.MESSAGE_NOT_FOUND, react, carol, "C2Calice", msg)


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["", "a", "👍👍", "thumbs", "[no such]", "👍 ", "x" * 40])
def test_a_reaction_id_is_one_emoji_or_a_custom_code(alice, bob, bad):
    msg = send_text(alice, "bob", "hi")
    assert_refused(ErrorCode.INVALID_PARAMETERS, react, bob, "C2Calice", msg, bad)


@pytest.mark.django_db
def test_the_vendors_codes_for_twice_not_reacted_and_too_many(alice, bob):
    msg = send_text(alice, "bob", "hi")
    react(bob, "C2Calice", msg)
    assert_refused(ErrorCode.ALREADY_REACTED, react, bob, "C2Calice", msg)
    assert_refused(ErrorCode.NOT_REACTED, unreact, bob, "C2Calice", msg, "😀")
    assert_refused(ErrorCode.NOT_REACTED, unreact, alice, "C2Cbob", msg)
    others = [chr(0x1F600 + i) for i in range(rules.MAX_REACTIONS_PER_MESSAGE - 1)]
    for reaction_id in others:
        react(alice, "C2Cbob", msg, reaction_id)
    assert_refused(ErrorCode.TOO_MANY_REACTIONS, react, bob, "C2Calice", msg, "🍕")
    react(bob, "C2Calice", msg, others[0])  # an existing reaction still takes more users


@pytest.mark.django_db
def test_access_non_members_recalled_deleted_tips_and_muted(alice, bob, carol, dave):
    make_group(alice, group_type="Public", members=["bob", "carol"])
    msg = send_group_text(alice, "g1", "hello")
    react(bob, "GROUPg1", msg)

    # a non-member may neither react nor read
    assert_refused(ErrorCode.PERMISSION_DENIED, react, dave, "GROUPg1", msg)
    assert_refused(ErrorCode.PERMISSION_DENIED, reactions.get_message_reactions, dave, [ref(msg, "GROUPg1")], 10)
    assert_refused(
        ErrorCode.PERMISSION_DENIED, reactions.get_all_user_list_of_message_reaction, dave, ref(msg, "GROUPg1"), "👍", 0, 10
    )
    # a member who left is a non-member
    actions.quit_group(carol, "g1")
    assert_refused(ErrorCode.PERMISSION_DENIED, react, carol, "GROUPg1", msg)

    # a muted member may react (muting stops messages, and a reaction is not one)
    actions.add_members(alice, "g1", ["carol"])
    later = send_group_text(alice, "g1", "after carol came back")
    mute("g1", bob, 600)
    react(bob, "GROUPg1", later)
    # carol came back after ``msg``: it is not in her history
    assert_refused(ErrorCode.MESSAGE_NOT_FOUND, react, carol, "GROUPg1", msg)

    # a message deleted for me takes no reaction of mine, and is left out of my reads
    actions.delete_messages(bob, [MessageRef(ID=later.msg_id, conversationID="GROUPg1")])
    assert_refused(ErrorCode.MESSAGE_NOT_FOUND, unreact, bob, "GROUPg1", later)
    assert summary(bob, "GROUPg1", [later]) == []

    # a recalled message takes none, and shows none
    actions.revoke_message(alice, "GROUPg1", msg.msg_id)
    assert_refused(ErrorCode.MESSAGE_NOT_FOUND, react, alice, "GROUPg1", msg)
    assert summary(alice, "GROUPg1", [msg]) == [{"messageID": msg.msg_id, "reactionList": []}]

    # group tips take none
    tip = msg.thread.messages.filter(type=rules.GROUP_TIP).first()
    assert_refused(ErrorCode.INVALID_PARAMETERS, react, alice, "GROUPg1", tip)


@pytest.mark.django_db
def test_a_targeted_message_is_reacted_to_and_read_by_its_viewers_only(alice, bob, carol):
    make_group(alice, members=["bob", "carol"])
    msg = send_group_text(alice, "g1", "psst", receiver_list=["bob"])
    react(bob, "GROUPg1", msg)
    assert_refused(ErrorCode.MESSAGE_NOT_FOUND, react, carol, "GROUPg1", msg)
    assert summary(carol, "GROUPg1", [msg]) == []
    assert_refused(
        ErrorCode.MESSAGE_NOT_FOUND, reactions.get_all_user_list_of_message_reaction, carol, ref(msg, "GROUPg1"), "👍", 0, 5
    )


@pytest.mark.django_db
def test_messages_of_two_conversations_in_one_call_are_refused(alice, bob, carol):
    one, two = send_text(alice, "bob", "one"), send_text(alice, "carol", "two")
    refs = [ref(one, "C2Cbob"), ref(two, "C2Ccarol")]
    assert_refused(ErrorCode.INVALID_PARAMETERS, reactions.get_message_reactions, alice, refs, 10)


@pytest.mark.django_db
def test_all_users_of_a_reaction_page_by_page(alice):
    members = group_of(alice, 8)
    msg = send_group_text(alice, "g1", "vote")
    for member in members:
        react(member, "GROUPg1", msg)
    seen, next_seq, pages = [], 0, 0
    while True:
        page = reactions.get_all_user_list_of_message_reaction(alice, ref(msg, "GROUPg1"), "👍", next_seq, 3)
        seen += [u["userID"] for u in page["userList"]]
        pages += 1
        if page["isCompleted"]:
            assert page["nextSeq"] == 0
            break
        next_seq = page["nextSeq"]
    assert seen == [m.username for m in members] and pages == 3


# --- O(1) in a group of 1,000 ------------------------------------------------------------------

REACT_GROUP = 10  # conversation; S; message locked; the checks' aggregate; INSERT; the thread's next
#                   change; the message's change (sync recovers it); the reaction's summary; the
#                   viewers' ids (the event's recipients); R
UNREACT_GROUP = 10  # the same with a DELETE
GET_REACTIONS = 4  # conversation; messages; the grouped counts; the first users (a window function)
GET_REACTION_USERS = 3  # conversation; message; the page


@pytest.mark.django_db
@pytest.mark.parametrize("n", [10, 1000])
def test_reacting_in_a_big_group_is_a_fixed_number_of_queries_and_one_small_event(
    alice, django_assert_num_queries, n, monkeypatch
):
    members = group_of(alice, n)
    msg = send_group_text(alice, "g1", "ship it?")
    now = timezone.now() - timedelta(minutes=1)
    MessageReaction.objects.bulk_create(
        MessageReaction(message=msg, user=m, reaction_id=rid, created=now + timedelta(seconds=later))
        for m in members
        for rid, later in (("👍", 0), ("🎉", 1))
    )
    published = []
    monkeypatch.setattr("messaging.actions.reactions.publish_on_commit", lambda *args, **kwargs: published.append((args, kwargs)))

    with django_assert_num_queries(REACT_GROUP):
        react(alice, "GROUPg1", msg, "🚀")
    with django_assert_num_queries(UNREACT_GROUP):
        unreact(members[0], "GROUPg1", msg, "👍")
    with django_assert_num_queries(GET_REACTIONS):
        [result] = summary(alice, "GROUPg1", [msg])
    with django_assert_num_queries(GET_REACTION_USERS):
        reactions.get_all_user_list_of_message_reaction(alice, ref(msg, "GROUPg1"), "👍", 0, 100)

    assert [(r["reactionID"], r["totalUserCount"]) for r in result["reactionList"]] == [
        ("👍", n - 2),
        ("🎉", n - 1),
        ("🚀", 1),
    ]
    assert len(published) == 2, "one publish per reaction, not one per member"
    (event, data, recipients), kwargs = published[1]
    assert event == "MESSAGE_REACTIONS_UPDATED" and kwargs["via_thread"] == msg.thread_id
    assert len(recipients) == n
    assert data["reactionList"] == [
        {
            "reactionID": "👍",
            "totalUserCount": n - 2,
            "partialUserList": [
                {"userID": m.username, "nick": "", "avatar": ""} for m in members[1 : 1 + rules.REACTION_MAX_PARTIAL_USERS]
            ],
        }
    ]


# --- over the socket: live events, and events applied == a fresh fetch --------------------------

pytestmark_ws = pytest.mark.django_db(transaction=True)


def apply_reaction_events(old, events, me):
    """What tim.js does with MESSAGE_REACTIONS_UPDATED: the changed reaction replaces the held
    one (dropped at 0, appended when new); reactedByMyself from the operation when the
    operator is me, else as it was."""
    held = {item["messageID"]: [dict(r) for r in item["reactionList"]] for item in old}
    for data in events_named(events, "MESSAGE_REACTIONS_UPDATED"):
        reactions_of = held.get(data["messageID"])
        if reactions_of is None:
            continue
        for change in data["reactionList"]:
            index = next((i for i, r in enumerate(reactions_of) if r["reactionID"] == change["reactionID"]), None)
            before = reactions_of[index] if index is not None else {"reactedByMyself": False}
            mine = data["operation"] == "add" if data["operatorID"] == me else before["reactedByMyself"]
            item = dict(change, reactedByMyself=mine)
            if change["totalUserCount"] == 0:
                if index is not None:
                    reactions_of.pop(index)
            elif index is None:
                reactions_of.append(item)
            else:
                reactions_of[index] = item
    return [{"messageID": mid, "reactionList": rs} for mid, rs in held.items()]


async def fetch(tab, messages):
    refs = [{"ID": m["ID"], "conversationID": "GROUPg1"} for m in messages]
    return (await tab.request("getMessageReactions", messageList=refs, maxUserCountPerReaction=10))["resultList"]


@pytestmark_ws
async def test_events_applied_to_what_each_member_had_equal_a_fresh_fetch(open_tab, alice, bob, carol):
    from channels.db import database_sync_to_async

    await database_sync_to_async(make_group)(alice, members=["bob", "carol"])
    a, b, c = await open_tab(alice), await open_tab(bob), await open_tab(carol)
    one = await a.send_text("g1", "one", conversation_type="GROUP")
    two = await a.send_text("g1", "two", conversation_type="GROUP")
    for tab in (a, b, c):
        await tab.drain()
    await b.request("addMessageReaction", message={"ID": one["ID"], "conversationID": "GROUPg1"}, reactionID="👍")
    for tab in (a, b, c):
        await tab.drain()
    before = {tab: await fetch(tab, [one, two]) for tab in (a, b, c)}

    steps = [
        (c, "addMessageReaction", one, "👍"),
        (a, "addMessageReaction", one, "🎉"),
        (b, "addMessageReaction", two, "[微笑]"),
        (c, "addMessageReaction", one, "🎉"),
        (c, "removeMessageReaction", one, "👍"),
        (b, "removeMessageReaction", two, "[微笑]"),
        (a, "removeMessageReaction", one, "🎉"),
    ]
    for tab, op, message, reaction_id in steps:
        reply = await tab.request(op, message={"ID": message["ID"], "conversationID": "GROUPg1"}, reactionID=reaction_id)
        assert reply["reactionList"][0]["reactedByMyself"] is (op == "addMessageReaction")

    for tab, me in ((a, "alice"), (b, "bob"), (c, "carol")):
        events = await tab.drain(settle=0.3)
        assert len(events_named(events, "MESSAGE_REACTIONS_UPDATED")) == len(steps), "one event per change"
        assert {e["event"] for e in events} == {"MESSAGE_REACTIONS_UPDATED"}, "no unread, no conversation change"
        assert apply_reaction_events(before[tab], events, me) == await fetch(tab, [one, two])


@pytestmark_ws
async def test_refusals_and_bad_arguments_over_the_socket(open_tab, alice, bob, carol):
    a, c = await open_tab(alice), await open_tab(carol)
    sent = await a.send_text("bob", "hi")
    message = {"ID": sent["ID"], "conversationID": "C2Cbob"}
    await a.expect_error(ErrorCode.INVALID_PARAMETERS, "addMessageReaction", message=message, reactionID="nope")
    await a.expect_error(ErrorCode.INVALID_PARAMETERS, "addMessageReaction", message=message)
    await a.expect_error(ErrorCode.INVALID_PARAMETERS, "addMessageReaction", message=message, reactionID="👍", extra=1)
    await a.expect_error(
        ErrorCode.INVALID_CONVERSATION_ID, "addMessageReaction", message={"ID": "x", "conversationID": "zz"}, reactionID="👍"
    )
    await a.expect_error(ErrorCode.NOT_REACTED, "removeMessageReaction", message=message, reactionID="👍")
    await c.expect_error(
        ErrorCode.MESSAGE_NOT_FOUND,
        "addMessageReaction",
        message={"ID": sent["ID"], "conversationID": "C2Calice"},
        reactionID="👍",
    )
    await a.expect_error(ErrorCode.INVALID_PARAMETERS, "getMessageReactions", messageList=[message] * 21)
    await a.expect_error(ErrorCode.INVALID_PARAMETERS, "getMessageReactions", messageList=[message], maxUserCountPerReaction=11)
    await a.expect_error(ErrorCode.INVALID_PARAMETERS, "getMessageReactions", messageList=[])
    await a.expect_error(
        ErrorCode.INVALID_PARAMETERS, "getAllUserListOfMessageReaction", message=message, reactionID="👍", count=101
    )
    await a.expect_error(
        ErrorCode.INVALID_PARAMETERS, "getAllUserListOfMessageReaction", message=message, reactionID="👍", nextSeq=-1
    )


@pytestmark_ws
async def test_c2c_reaction_reaches_both_parties_with_their_conversation_ids(open_tab, alice, bob):
    a, b = await open_tab(alice), await open_tab(bob)
    sent = await a.send_text("bob", "hi")
    await b.wait_event("MESSAGE_RECEIVED")
    await a.drain()
    await b.drain()
    await b.request("addMessageReaction", message={"ID": sent["ID"], "conversationID": "C2Calice"}, reactionID="👍")
    [seen_by_a] = events_named(await a.drain(settle=0.3), "MESSAGE_REACTIONS_UPDATED")
    [seen_by_b] = events_named(await b.drain(settle=0.3), "MESSAGE_REACTIONS_UPDATED")
    assert seen_by_a["conversationID"] == "C2Cbob" and seen_by_b["conversationID"] == "C2Calice"
    assert seen_by_a["operatorID"] == "bob" and seen_by_a["reactionList"][0]["totalUserCount"] == 1


def apply_synced_reactions(old, entries):
    """What tim.js does with a sync page's ``reactions``: each message's whole list replaces
    the one it held."""
    held = {item["messageID"]: item["reactionList"] for item in old}
    for entry in entries:
        for item in entry.get("reactions", []):
            if item["messageID"] in held:
                held[item["messageID"]] = item["reactionList"]
    return [{"messageID": mid, "reactionList": rs} for mid, rs in held.items()]


@pytestmark_ws
async def test_a_client_offline_while_reactions_changed_gets_them_from_sync(open_tab, alice, bob, carol):
    """§8: reactions are changes of their message, as edits and recalls are. Carol's client
    holds three messages and their reactions, goes away while reactions are added and
    removed, and comes back: ``sync`` from her cursor brings each changed message's whole
    reaction list (empty when the last one went), equal to a fresh getMessageReactions;
    the messages come in changedList as they are (not edited: no new version), and a
    page from the new cursor brings nothing more."""
    from channels.db import database_sync_to_async

    await database_sync_to_async(make_group)(alice, members=["bob", "carol"])
    a, b = await open_tab(alice), await open_tab(bob)
    sent = [await a.send_text("g1", text, conversation_type="GROUP") for text in ("one", "two", "three", "four")]
    one, two, three, four = sent

    async def change(tab, op, message, reaction_id):
        await tab.request(op, message={"ID": message["ID"], "conversationID": "GROUPg1"}, reactionID=reaction_id)

    await change(b, "addMessageReaction", three, "👍")
    c = await open_tab(carol)
    held = await fetch(c, sent)
    [conv] = [x for x in (await c.request("getConversationList"))["conversationList"] if x["conversationID"] == "GROUPg1"]
    cursor = conv["syncCursor"]
    await c.close()

    await change(b, "addMessageReaction", one, "👍")  # added
    await change(a, "addMessageReaction", one, "🎉")
    await change(b, "addMessageReaction", two, "[微笑]")  # added, then removed
    await change(b, "removeMessageReaction", two, "[微笑]")
    await change(b, "removeMessageReaction", three, "👍")  # the last one removed
    await change(a, "addMessageReaction", four, "👍")  # carol's own, on another tab of hers
    c2 = await open_tab(carol)
    await change(c2, "addMessageReaction", four, "👍")

    c = await open_tab(carol)
    page = await c.request("sync", cursors={"GROUPg1": cursor})
    assert page["isSyncCompleted"]
    [entry] = [e for e in page["conversations"] if e["conversationID"] == "GROUPg1"]
    assert entry["messageList"] == []
    assert sorted(m["ID"] for m in entry["changedList"]) == sorted(m["ID"] for m in sent)
    fresh = await fetch(c, sent)
    assert apply_synced_reactions(held, [entry]) == fresh
    assert [r["reactedByMyself"] for r in fresh[3]["reactionList"]] == [True]
    assert fresh[1]["reactionList"] == [] and fresh[2]["reactionList"] == []

    again = await c.request("sync", cursors={"GROUPg1": entry["syncCursor"]})
    assert [e for e in again["conversations"] if e["conversationID"] == "GROUPg1" and e.get("reactions")] == []
    # A client that never held the group (no cursor) gets its unread messages with their reactions.
    fresh_page = await c.request("sync", cursors={})
    [new_entry] = [e for e in fresh_page["conversations"] if e["conversationID"] == "GROUPg1"]
    by_id = {item["messageID"]: item["reactionList"] for item in fresh}
    assert {r["messageID"]: r["reactionList"] for r in new_entry["reactions"]} == {k: v for k, v in by_id.items() if v}


def test_the_counts_of_a_few_messages_are_compiled_once_and_read_as_the_orm_reads_them(alice, bob, compiles):
    """``reaction_lists`` for up to COMPILED_MESSAGES messages (a sync page's) runs a query
    compiled once per number of messages (messaging/compiled.py): the same lists as the
    queryset built for the call, and nothing compiled again for another call of that size."""
    first, second, third = (send_text(alice, "bob", text) for text in ("one", "two", "three"))
    react(bob, "C2Calice", first)
    react(alice, "C2Cbob", first, "❤️")
    react(bob, "C2Calice", third, "😂")
    pks = [first.pk, second.pk, third.pk]
    expected = {row["message_id"]: row for row in reactions._counts(alice.pk, *pks)}  # the queryset, built for the call
    lists = reactions.reaction_lists(alice, pks, 0)
    assert sorted(lists) == [first.pk, third.pk] == sorted(expected)
    assert [r["reactionID"] for r in lists[first.pk]] == ["👍", "❤️"]
    assert [r["reactedByMyself"] for r in lists[first.pk]] == [False, True]
    assert lists[third.pk] == [{"reactionID": "😂", "totalUserCount": 1, "partialUserList": [], "reactedByMyself": False}]
    compiled = compiles
    compiled.clear()
    assert reactions.reaction_lists(bob, [third.pk, second.pk, first.pk], 0)[first.pk][1]["reactedByMyself"] is False
    assert reactions.reaction_lists(bob, [first.pk, first.pk, second.pk, third.pk], 0).keys() == lists.keys()  # repeated pks
    assert compiled == []
