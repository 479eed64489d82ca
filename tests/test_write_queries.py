"""Writes: pinned query counts that do not grow with the group (or the history).

As tests/test_queries.py does for reads: each write action runs at two sizes (3 and
40 members, or unread messages) with the same exact count. A per-member loop (one
UPDATE per conversation row instead of the send's single UPDATE ... RETURNING, one
INSERT per member) makes the 40 case fail at once.

The counts include the SAVEPOINT/RELEASE pairs of the actions' ``transaction.atomic``
blocks, nested in the test's transaction (on a request of their own they are
BEGIN/COMMIT, which Django does not count).
"""

import functools
import json

import pytest

from messaging import actions, rules
from messaging.models import Message
from messaging.queries import receipts
from messaging.schemas import MessageRef
from tests.chat_helpers import (
    NEW_C2C_THREAD,
    NUMBERED_INSERT,
    NUMBERED_WRITE,
    fast_passwords,  # noqa: F401
    make_group,
    send_group_text,
    send_text,
)

pytestmark = pytest.mark.django_db

SIZES = [3, 40]

# The pinned counts (SQLite, the test database, or PostgreSQL with DATABASE_URL), with the
# statements they are. S/R: the SAVEPOINT and RELEASE of the action's transaction.
# NUMBERED_INSERT, NEW_C2C_THREAD (chat_helpers): 1 statement on PostgreSQL (a CTE), else 2;
# NUMBERED_WRITE: the numbered INSERT with the conversations UPDATE, 1 on PostgreSQL, else 3.
# (Outside a test's transaction a plain send on PostgreSQL has no S/R either: 2 statements,
# tests/integration/pg_suite/concurrent_actions.py.)
SEND_C2C = 3 + NUMBERED_WRITE  # peer with the pair's thread ID; S; numbered INSERT + conversations UPDATE ... RETURNING; R
#                                 Was 7 (the thread looked up by key, the seq UPDATE apart from the INSERT), then 5: PG 4.
FIRST_C2C_SEND = SEND_C2C + NEW_C2C_THREAD  # the same + the thread's INSERT ... ON CONFLICT DO NOTHING RETURNING and
#                                            both conversations INSERT (no savepoint, no second lookup). Was 14: PG 6.
SEND_GROUP = 3 + NUMBERED_WRITE  # group with the membership (one query); S; numbered INSERT + conversations UPDATE; R
#                                   Was 7 (group, then membership), then 5: PG 4.
SEND_GROUP_TARGETED = 7 + NUMBERED_INSERT  # group; S; numbered INSERT; the receivers' memberships; the receivers
#                                       INSERT; the conversations UPDATE (it names them); R
#                                       + the other members (their change number alone)
SEND_ONLINE_C2C = 1  # peer; nothing written
SEND_ONLINE_GROUP = 2  # group with membership; the members (the event's recipients); nothing written
# A group tip (post_message): the numbered INSERT and the conversations UPDATE ... RETURNING (was 3).
TIP = NUMBERED_WRITE
ADD_MEMBERS = 19 + TIP  # group; S; lock; operator's role; users; existing members; members INSERT; conversations
#                   DELETE + INSERT; member_count UPDATE; the tip; R
#                   Was 14; +8 with the invited notice (7) to the new members' system conversations: the group's
#                   owner (the notice's groupProfile), NOTICE_FIRST (these users' first notice) and NOTICE.
# A group system notice to any number of users (actions/system_notices.post_notices): their system threads
# (SELECT); seq UPDATE ... RETURNING; messages INSERT ... SELECT; conversations UPDATE ... RETURNING.
NOTICE = 4
NOTICE_FIRST = NOTICE + 3  # a user's first notice: threads INSERT, threads SELECT again, conversations INSERT
MARK_READ_C2C = 8  # conversation; S; thread lock; cursor; conversation UPDATE; mentions DELETE; messages read (event); R
MARK_READ_GROUP = 7  # the same without the peer's read event
DELETE_CONVERSATION_C2C = 7  # conversation; S; thread lock; cursor; conversation UPDATE; messages read (event); R
DELETE_CONVERSATION_GROUP = 6  # the same without the peer's read event
CREATE_GROUP = 14 + TIP + 2 * NOTICE_FIRST  # users; S; group ID check; thread INSERT; group INSERT; owner's and members'
#                    rows (member INSERT, conversations DELETE + INSERT, member_count UPDATE: twice); the tip; R;
#                    + "You created" (6) to the owner and "added you" (7) to the members (each their first notice here)


def people(prefix, n):
    """``n`` users without passwords (no hashing), made by the action."""
    return [actions.create_user(f"{prefix}{i:03d}") for i in range(n)]


def group_of(owner, n, group_id="g1"):
    """A Public group of ``n`` members, the owner included."""
    members = people(f"{group_id}m", n - 1)
    make_group(owner, group_type="Public", group_id=group_id, members=[m.username for m in members])
    return members


@pytest.mark.parametrize("n", SIZES)
def test_c2c_send_is_a_fixed_number_of_queries(alice, bob, django_assert_num_queries, n):
    for i in range(n):
        send_text(alice if i % 2 else bob, "bob" if i % 2 else "alice", f"m{i}")

    with django_assert_num_queries(SEND_C2C):
        actions.send_message(alice, conversation_type="C2C", to="bob", msg_type="TIMTextElem", payload={"text": "x"})


@pytest.mark.parametrize("n", SIZES)
def test_a_reply_costs_one_query_more(alice, bob, django_assert_num_queries, n):
    """A reply (cloudCustomData.messageReply, docs/PROTOCOL.md §4.8) checks its original in
    one EXISTS query, whatever the history's size; a send that is no reply pays nothing."""
    sent = [send_text(alice if i % 2 else bob, "bob" if i % 2 else "alice", f"m{i}") for i in range(n)]
    reply = json.dumps({"messageReply": {"messageID": sent[0].msg_id, "messageAbstract": "m0", "version": 1}})

    with django_assert_num_queries(SEND_C2C + 1):
        actions.send_message(
            alice, conversation_type="C2C", to="bob", msg_type="TIMTextElem", payload={"text": "x"}, cloud_custom_data=reply
        )


@pytest.mark.parametrize("check", [False, True])
def test_a_c2c_send_checks_blocks_and_friendship_in_the_peer_lookup(alice, bob, settings, django_assert_num_queries, check):
    """Blocks (20007) and, with FRIENDSHIP_CHECK on, friendship (20009) are EXISTS
    subqueries of the peer lookup: the send costs SEND_C2C all the same."""
    settings.CHAT = {**settings.CHAT, "FRIENDSHIP_CHECK": check}
    actions.set_allow_type(bob, "AllowType_Type_AllowAny")
    actions.add_friend(alice, "bob")
    people("blocker", 3)
    for blocker in people("other", 3):
        actions.add_to_blacklist(blocker, ["alice"])
    send_text(alice, "bob", "warm")

    with django_assert_num_queries(SEND_C2C):
        actions.send_message(alice, conversation_type="C2C", to="bob", msg_type="TIMTextElem", payload={"text": "x"})


@pytest.mark.parametrize("conversation_type, to, count", [("C2C", "bob", SEND_C2C), ("GROUP", "g1", SEND_GROUP)])
def test_a_send_with_a_client_id_costs_the_same_and_a_resend_one_query_more(
    alice, bob, django_assert_num_queries, conversation_type, to, count
):
    """``tim.js`` gives every message an ID: whether the sender stored one with it
    already is asked by the send's first read (access.resent_sql), so a new message with
    an ID costs what one without does, and only a resend reads the stored one."""
    group_of(alice, 3)
    send = functools.partial(
        actions.send_message, alice, conversation_type=conversation_type, to=to, msg_type="TIMTextElem", payload={"text": "x"}
    )
    send(msg_id="warm-up")

    with django_assert_num_queries(count):
        sent = send(msg_id="client-1")
    with django_assert_num_queries(2):  # the first read (it says "resent"); the stored message
        again = send(msg_id="client-1")
    assert again.message.pk == sent.message.pk


def test_first_c2c_send_creates_the_thread_in_a_fixed_number_of_queries(alice, bob, django_assert_num_queries):
    with django_assert_num_queries(FIRST_C2C_SEND):
        actions.send_message(alice, conversation_type="C2C", to="bob", msg_type="TIMTextElem", payload={"text": "x"})


@pytest.mark.parametrize("n", SIZES)
def test_group_send_is_a_fixed_number_of_queries(alice, django_assert_num_queries, n):
    group_of(alice, n)
    send_group_text(alice, "g1", "warm")

    with django_assert_num_queries(SEND_GROUP):
        actions.send_message(alice, conversation_type="GROUP", to="g1", msg_type="TIMTextElem", payload={"text": "x"})


@pytest.mark.parametrize("n", SIZES)
def test_targeted_group_send_is_a_fixed_number_of_queries(alice, django_assert_num_queries, n):
    members = group_of(alice, n)
    send_group_text(alice, "g1", "warm")

    with django_assert_num_queries(SEND_GROUP_TARGETED):
        actions.send_message(
            alice,
            conversation_type="GROUP",
            to="g1",
            msg_type="TIMTextElem",
            payload={"text": "x"},
            receiver_list=[m.username for m in members[:2]],
        )


@pytest.mark.parametrize("n", SIZES)
def test_online_only_sends_are_a_fixed_number_of_queries(alice, bob, django_assert_num_queries, n):
    group_of(alice, n)
    send_group_text(alice, "g1", "warm")
    typing = {"data": "typing"}

    with django_assert_num_queries(SEND_ONLINE_GROUP):
        actions.send_message(
            alice, conversation_type="GROUP", to="g1", msg_type="TIMCustomElem", payload=typing, online_user_only=True
        )
    with django_assert_num_queries(SEND_ONLINE_C2C):
        actions.send_message(
            alice, conversation_type="C2C", to="bob", msg_type="TIMCustomElem", payload=typing, online_user_only=True
        )


@pytest.mark.parametrize("n", SIZES)
def test_add_members_is_a_fixed_number_of_queries(alice, django_assert_num_queries, n):
    """n new members into a group of n."""
    group_of(alice, n)
    newcomers = [u.username for u in people("new", n)]

    with django_assert_num_queries(ADD_MEMBERS):
        result = actions.add_members(alice, "g1", newcomers)

    assert len(result["successUserIDList"]) == n


@pytest.mark.parametrize("n", SIZES)
def test_c2c_mark_read_is_a_fixed_number_of_queries(alice, bob, django_assert_num_queries, n):
    for i in range(n):
        send_text(alice, "bob", f"m{i}")

    with django_assert_num_queries(MARK_READ_C2C):
        assert actions.mark_read(bob, "C2Calice") is True


@pytest.mark.parametrize("n", SIZES)
def test_group_mark_read_is_a_fixed_number_of_queries(alice, django_assert_num_queries, n):
    members = group_of(alice, n)
    send_group_text(alice, "g1", "read me", at_user_list=[members[0].username])

    with django_assert_num_queries(MARK_READ_GROUP):
        assert actions.mark_read(members[0], "GROUPg1") is True


@pytest.mark.parametrize("n", SIZES)
def test_c2c_delete_conversation_is_a_fixed_number_of_queries(alice, bob, django_assert_num_queries, n):
    for i in range(n):
        send_text(alice, "bob", f"m{i}")

    with django_assert_num_queries(DELETE_CONVERSATION_C2C):
        actions.delete_conversation(bob, "C2Calice")


@pytest.mark.parametrize("n", SIZES)
def test_group_delete_conversation_is_a_fixed_number_of_queries(alice, django_assert_num_queries, n):
    members = group_of(alice, n)
    send_group_text(alice, "g1", "hello")

    with django_assert_num_queries(DELETE_CONVERSATION_GROUP):
        actions.delete_conversation(members[0], "GROUPg1")


@pytest.mark.parametrize("n", SIZES)
def test_create_group_is_a_fixed_number_of_queries(alice, django_assert_num_queries, n):
    members = [u.username for u in people("m", n - 1)]

    with django_assert_num_queries(CREATE_GROUP):
        group = actions.create_group(alice, group_type="Public", name="Team", group_id="g1", member_user_ids=members)

    assert group.member_count == n


REVOKE_C2C = 7  # conversation; S; message (locked, sender selected); the thread's change counter UPDATE ... RETURNING;
#                 message UPDATE; conversations UPDATE ... RETURNING; R (the mentions DELETE only when it mentioned anyone)
REVOKE_GROUP_BY_ADMIN = 9  # conversation; S; message lock; roles; change counter; message UPDATE; mentions DELETE;
#                            conversations UPDATE ... RETURNING; R


@pytest.mark.parametrize("n", SIZES)
def test_c2c_revoke_is_a_fixed_number_of_queries(alice, bob, django_assert_num_queries, n):
    for i in range(n):
        send_text(alice, "bob", f"m{i}")
    message = send_text(alice, "bob", "oops")

    with django_assert_num_queries(REVOKE_C2C):
        actions.revoke_message(alice, "C2Cbob", message.msg_id)


@pytest.mark.parametrize("n", SIZES)
def test_group_revoke_by_an_admin_is_a_fixed_number_of_queries(alice, django_assert_num_queries, n):
    members = group_of(alice, n)
    message = send_group_text(members[0], "g1", "@all spam", at_user_list=["__kImSDK_MesssageAtALL__"])

    with django_assert_num_queries(REVOKE_GROUP_BY_ADMIN):
        actions.revoke_message(alice, "GROUPg1", message.msg_id)


# Read receipts: a reader's receipt moves one cursor, whatever the group's size (1,000 members
# cost what 3 do); counts are read from the cursors by a fixed number of queries.
RECEIPT_GROUP = 6  # conversation; the listed messages; S; cursor UPDATE; senders of the passed messages (event); R
RECEIPT_C2C = 6  # conversation; the listed messages; S; cursor UPDATE; the passed messages' receipt time UPDATE; R
READ_RECEIPT_LIST = 2  # conversation; the messages with both counts (subqueries)
READ_MEMBER_PAGE = 3  # conversation; the message; one page of members


def receipt_group(owner, n):
    """A group of ``n`` members (the owner included) where the owner asked for receipts."""
    members = group_of(owner, n)
    asked = send_group_text(owner, "g1", "please read", need_read_receipt=True)
    return members, [MessageRef(ID=asked.msg_id, conversationID="GROUPg1")]


@pytest.mark.parametrize("n", [3, 1000])
def test_a_group_receipt_costs_the_same_in_a_group_of_3_or_1000(alice, django_assert_num_queries, n):
    members, asked = receipt_group(alice, n)
    actions.send_message_read_receipt(members[1], asked)

    with django_assert_num_queries(RECEIPT_GROUP):
        assert actions.send_message_read_receipt(members[0], asked) is True


@pytest.mark.parametrize("n", SIZES)
def test_a_c2c_receipt_is_a_fixed_number_of_queries(alice, bob, django_assert_num_queries, n):
    for i in range(n):
        sent = send_text(alice, "bob", f"m{i}", need_read_receipt=True)

    with django_assert_num_queries(RECEIPT_C2C):
        assert actions.send_message_read_receipt(bob, [MessageRef(ID=sent.msg_id, conversationID="C2Calice")]) is True


@pytest.mark.parametrize("n", [3, 1000])
def test_receipt_reads_are_a_fixed_number_of_queries(alice, django_assert_num_queries, n):
    members, asked = receipt_group(alice, n)
    actions.send_message_read_receipt(members[0], asked)

    with django_assert_num_queries(READ_RECEIPT_LIST):
        [info] = receipts.get_message_read_receipt_list(alice, asked)["messageList"]
    assert info["readReceiptInfo"]["readCount"] == 1 and info["readReceiptInfo"]["unreadCount"] == n - 2
    with django_assert_num_queries(READ_MEMBER_PAGE):
        page = receipts.get_group_message_read_member_list(alice, asked[0], member_filter=1)
    assert len(page["unreadUserIDList"]) == min(n - 2, 100)


CHANGE_GROUP_OWNER = 10 + TIP  # group; S; lock; operator's role; new owner's membership; the two role UPDATEs;
#                          group UPDATE; the tip; the members (GROUP_LIST_UPDATED); R
DISMISS_GROUP = 9 + TIP + NOTICE  # group; S; lock; operator's role; the members; the owner (notice's profile); the
#                     notice (a tip); memberships DELETE; group UPDATE; R
#                     Was 12; + the dismissed notice (5) to every other member's system conversation (which they
#                     have since the group was made: "added you").


@pytest.mark.parametrize("n", SIZES)
def test_change_group_owner_is_a_fixed_number_of_queries(alice, django_assert_num_queries, n):
    [heir, *_] = group_of(alice, n)

    with django_assert_num_queries(CHANGE_GROUP_OWNER):
        actions.change_group_owner(alice, "g1", heir.username)


@pytest.mark.parametrize("n", SIZES)
def test_dismiss_group_is_a_fixed_number_of_queries(alice, django_assert_num_queries, n):
    group_of(alice, n)

    with django_assert_num_queries(DISMISS_GROUP):
        actions.dismiss_group(alice, "g1")


SET_NAME_CARD = 7 + TIP  # group; S; lock; operator's role; the target's membership; its UPDATE; the tip; R


@pytest.mark.parametrize("n", SIZES)
def test_set_member_name_card_is_a_fixed_number_of_queries(alice, django_assert_num_queries, n):
    [member, *_] = group_of(alice, n)

    with django_assert_num_queries(SET_NAME_CARD):
        actions.set_member_name_card(alice, "g1", member.username, "Card")


SET_MEMBER_CUSTOM_FIELDS = SET_NAME_CARD  # the same steps: the target's custom fields in its one UPDATE
UPDATE_GROUP_CUSTOM_FIELDS = 7 + TIP  # group; S; lock; operator's role; the group UPDATE; the tip; the members
#                                  (their group lists are refreshed); R


@pytest.mark.parametrize("n", SIZES)
def test_set_member_custom_fields_is_a_fixed_number_of_queries(alice, django_assert_num_queries, n):
    [member, *_] = group_of(alice, n)

    with django_assert_num_queries(SET_MEMBER_CUSTOM_FIELDS):
        actions.set_member_custom_fields(alice, "g1", member.username, [{"key": "team", "value": "blue"}])


@pytest.mark.parametrize("n", SIZES)
def test_group_custom_fields_are_a_fixed_number_of_queries(alice, django_assert_num_queries, n):
    group_of(alice, n)

    with django_assert_num_queries(UPDATE_GROUP_CUSTOM_FIELDS):
        actions.update_group_profile(alice, "g1", custom_fields=[{"key": "level", "value": "3"}])


# --- join applications and system notices (actions/group_applications.py, system_notices.py) ---

APPLY = 9 + NOTICE  # group; S; lock; membership; pending application; application INSERT; the owner (the
#                     notice's groupProfile); the owner and admins; the notice to them all; R
HANDLE = 15 + TIP + NOTICE  # the notice (conversation; message); group; S; lock; handler's role; the application; the
#                        applicant's membership; members INSERT; conversations DELETE + INSERT; member_count UPDATE; the
#                        tip; application UPDATE; the owner (the answer's
#                        groupProfile); the answer to the applicant; R


def managed_group(owner, n):
    """A NeedPermission Public group of ``n`` members, up to 10 of them admins (each got the
    set-admin notice: their system conversations exist)."""
    members = group_of(owner, n)
    for member in members[:10]:
        actions.set_member_role(owner, "g1", member.username, "Admin")
    actions.update_group_profile(owner, "g1", join_option="NeedPermission")
    return members


def notice_of(user, applicant):
    """The ID of the newest join-application notice of ``applicant`` in ``user``'s system conversation."""
    notices = Message.objects.filter(thread__key=f"system:{user.pk}", type=rules.GROUP_SYSTEM_NOTICE).order_by("-seq")
    return next(m.msg_id for m in notices if m.payload["operationType"] == 1 and m.payload["operatorID"] == applicant.username)


@pytest.mark.parametrize("n", SIZES)
def test_a_join_application_is_a_fixed_number_of_queries(alice, django_assert_num_queries, n):
    managed_group(alice, n)
    first, applicant = people("applicant", 2)
    actions.join_group(first, "g1")  # the owner's first notice: from now on the steady state

    with django_assert_num_queries(APPLY):
        status, _ = actions.join_group(applicant, "g1", apply_message="hi")

    assert status == "WaitAdminApproval"


@pytest.mark.parametrize("n", SIZES)
def test_handling_an_application_is_a_fixed_number_of_queries(alice, django_assert_num_queries, n):
    managed_group(alice, n)
    [applicant] = people("applicant", 1)
    actions.join_group(applicant, "g1")
    actions.handle_group_application(alice, notice_of(alice, applicant), "Reject")  # the applicant's first notice
    actions.join_group(applicant, "g1", apply_message="again")
    notice = notice_of(alice, applicant)

    with django_assert_num_queries(HANDLE):
        actions.handle_group_application(alice, notice, "Agree", handle_message="welcome")


def befriend_with_remarks(user, others):
    """Each of ``others`` a two-way friend of ``user`` with a remark both ways, and a C2C
    conversation (so the remarks patch conversations)."""
    actions.set_allow_type(user, "AllowType_Type_AllowAny")
    for other in others:
        actions.add_friend(other, user.username, remark=f"to {user.username}")
        actions.update_friend(user, other.username, remark=f"my {other.username}")
        send_text(user, other.username, "hi")


ADD_TO_BLACKLIST = 12  # whatever the number blocked: the users (locked); S; existing blocks; the count; the
#                        INSERT; the friendships (SELECT, DELETE); the requests (SELECT, DELETE); R; then the
#                        events' reads, one each: the request lists, the block list, the remark patches


@pytest.mark.parametrize("n", SIZES)
def test_blocking_many_users_is_a_fixed_number_of_queries(alice, django_assert_num_queries, n):
    """The events used to read each blocked user's request list, and each owner's
    conversations, one query per user."""
    friends, askers = people("f", n), people("q", n)
    befriend_with_remarks(alice, friends)
    for asker in askers:
        actions.add_friend(asker, "alice")  # pending: alice needs to confirm
    blocked = [u.username for u in friends + askers]

    with django_assert_num_queries(ADD_TO_BLACKLIST):
        actions.add_to_blacklist(alice, blocked)


DELETE_FRIENDS = 6  # whatever the number: the users (locked); S; the friendships (SELECT, DELETE); R; the
#                     remark patches' conversations (one read for every owner)


@pytest.mark.parametrize("n", SIZES)
def test_deleting_many_friends_is_a_fixed_number_of_queries(alice, django_assert_num_queries, n):
    friends = people("f", n)
    befriend_with_remarks(alice, friends)

    with django_assert_num_queries(DELETE_FRIENDS):
        result = actions.delete_friend(alice, [u.username for u in friends])

    assert len(result["successUserIDList"]) == n


# modifyMessage: the conversation; the message; S; compare-and-set UPDATE; the thread's change
# UPDATE ... RETURNING; the message's change UPDATE; the replaced version INSERT; the viewers'
# conversation rows (the event's recipients and whose lastMessage it is); R.
MODIFY = 9


@pytest.mark.parametrize("n", SIZES)
def test_c2c_edit_is_a_fixed_number_of_queries(alice, bob, django_assert_num_queries, n):
    for i in range(n):
        send_text(alice, "bob", f"m{i}")
    message = send_text(alice, "bob", "helo")

    with django_assert_num_queries(MODIFY):
        actions.modify_message(alice, "C2Cbob", message.msg_id, version=0, payload={"text": "hello"})


@pytest.mark.parametrize("n", SIZES)
def test_group_edit_is_a_fixed_number_of_queries(alice, django_assert_num_queries, n):
    group_of(alice, n)
    message = send_group_text(alice, "g1", "helo")

    with django_assert_num_queries(MODIFY):
        actions.modify_message(alice, "GROUPg1", message.msg_id, version=0, payload={"text": "hello"})
