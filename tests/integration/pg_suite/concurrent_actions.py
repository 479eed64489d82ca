"""The core actions under real concurrency, on PostgreSQL. Not collected by the main run.

``tests/integration/test_postgres_actions.py`` runs this file in a child pytest with
DATABASE_URL pointing at PostgreSQL (pytest-django makes and drops the test database);
the name does not match ``test_*.py``, so the main run (SQLite) never collects it.

Each test starts threads that call the actions at the same moment (a barrier), each
thread with its own database connection from the pool, as Daphne's thread pool
and several Daphne processes do. What must hold whatever the interleaving:
sequences gap-free and unique per thread, one stored message per client ID, one
C2C thread per pair, and unread counts that agree with the read cursors.
"""

import threading

import pytest
from django.db import close_old_connections, connection

from messaging import actions
from messaging.models import Conversation, Message, Thread
from tests.chat_helpers import fast_passwords  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

JOIN_TIMEOUT = 120  # seconds for every thread of one test to finish


@pytest.fixture(autouse=True)
def on_postgresql():
    if connection.vendor != "postgresql":
        pytest.fail(f"this suite runs on PostgreSQL (DATABASE_URL); the database here is {connection.vendor}")


@pytest.fixture
def people(db):
    return {name: actions.create_user(name, password="pw") for name in ("alice", "bob", "carol", "dave")}


def run_together(workers, timeout=JOIN_TIMEOUT):
    """Run each callable in its own thread, all released at once; return their results in order.

    A thread's exception is re-raised here. Each thread closes its connection at the
    end (back to the pool), as Channels' database_sync_to_async does.
    """
    barrier = threading.Barrier(len(workers))
    results = [None] * len(workers)
    errors = []

    def run(index, work):
        try:
            barrier.wait(timeout=timeout)
            results[index] = work()
        except BaseException as error:  # re-raised in the test below
            errors.append(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(i, w), daemon=True) for i, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(t.is_alive() for t in threads), f"threads still running after {timeout}s (a deadlock?)"
    if errors:
        raise errors[0]
    return results


def send(sender, to, text, conversation_type="C2C", msg_id=None):
    return actions.send_message(
        sender, conversation_type=conversation_type, to=to, msg_type="TIMTextElem", payload={"text": text}, msg_id=msg_id
    ).message


def thread_seqs(thread):
    return list(Message.objects.filter(thread=thread).order_by("seq").values_list("seq", flat=True))


def assert_gap_free(thread):
    thread.refresh_from_db()
    seqs = thread_seqs(thread)
    assert seqs == list(range(1, thread.last_seq + 1)), f"{thread.key}: seqs {seqs} with last_seq {thread.last_seq}"
    return seqs


def test_four_senders_in_one_group_get_seq_1_to_n_gap_free(people):
    """4 threads × 25 sends into one group: 100 messages, every seq once, no gap, each sender's order kept."""
    alice = people["alice"]
    group = actions.create_group(alice, group_type="Private", name="Busy", member_user_ids=["bob", "carol", "dave"])
    thread = group.thread
    thread.refresh_from_db()
    tips = thread.last_seq  # the creation tip(s)

    def sender(user):
        return lambda: [send(user, group.group_id, f"{user.username} {i}", "GROUP").seq for i in range(25)]

    per_sender = run_together([sender(u) for u in people.values()])

    all_seqs = [seq for seqs in per_sender for seq in seqs]
    assert len(all_seqs) == len(set(all_seqs)) == 100
    for seqs in per_sender:
        assert seqs == sorted(seqs), "one sender's messages must keep the order they were sent in"
    assert assert_gap_free(thread) == list(range(1, tips + 101))
    for user in people.values():
        texts = list(
            Message.objects.filter(thread=thread, sender=user, type="TIMTextElem")
            .order_by("seq")
            .values_list("payload", flat=True)
        )
        assert texts == [{"text": f"{user.username} {i}"} for i in range(25)]
    # The single UPDATE per send kept every member's unread count exact: 75 from the others.
    unread = dict(Conversation.objects.filter(thread=thread).values_list("user__username", "unread_count"))
    assert unread == {name: 75 for name in people}


def test_concurrent_resends_of_one_client_id_store_one_message(people):
    """8 tabs resend the same client message ID at once: one message, and every tab gets it back."""
    alice = people["alice"]
    group = actions.create_group(alice, group_type="Private", name="Resends", member_user_ids=["bob"])
    group_results = run_together([lambda: send(alice, group.group_id, "once", "GROUP", msg_id="client-id-1")] * 8)
    c2c_results = run_together([lambda: send(alice, "carol", "once", msg_id="client-id-2")] * 8)

    for results, msg_id in ((group_results, "client-id-1"), (c2c_results, "client-id-2")):
        stored = Message.objects.filter(sender=alice, msg_id=msg_id)
        assert stored.count() == 1
        assert {m.pk for m in results} == {stored.get().pk}
        assert {m.seq for m in results} == {stored.get().seq}
        assert_gap_free(stored.get().thread)
    # The lost races rolled back their seq: the next message follows without a gap.
    follow_up = send(alice, group.group_id, "next", "GROUP")
    assert follow_up.seq == Message.objects.get(sender=alice, msg_id="client-id-1").seq + 1
    assert Conversation.objects.get(user=people["carol"], conversation_id="C2Calice").unread_count == 1


def test_first_messages_from_both_sides_make_one_c2c_thread(people):
    """alice and bob write to each other for the first time at the same moment: one thread, two rows."""
    alice, bob = people["alice"], people["bob"]

    def writer(sender, to):
        return lambda: [send(sender, to, f"{sender.username} {i}").seq for i in range(10)]

    run_together([writer(alice, "bob"), writer(bob, "alice")] * 2)

    threads = Thread.objects.filter(kind=Thread.Kind.C2C)
    assert threads.count() == 1
    thread = threads.get()
    assert assert_gap_free(thread) == list(range(1, 41))
    rows = dict(Conversation.objects.filter(thread=thread).values_list("user__username", "conversation_id"))
    assert rows == {"alice": "C2Cbob", "bob": "C2Calice"}
    unread = dict(Conversation.objects.filter(thread=thread).values_list("user__username", "unread_count"))
    assert unread == {"alice": 20, "bob": 20}


def test_mark_read_racing_sends_keeps_unread_equal_to_messages_after_cursor(people):
    """bob marks read over and over while alice sends: the count never drifts from the cursor."""
    alice, bob = people["alice"], people["bob"]
    send(alice, "bob", "first")  # the conversation exists before the race

    def reader():
        for _ in range(40):
            actions.mark_read(bob, "C2Calice")

    run_together([lambda: [send(alice, "bob", f"m {i}") for i in range(40)], reader])

    conv = Conversation.objects.get(user=bob, conversation_id="C2Calice")
    after_cursor = Message.objects.filter(thread=conv.thread, sender=alice, seq__gt=conv.last_read_seq).count()
    assert conv.unread_count == after_cursor
    assert_gap_free(conv.thread)
    actions.mark_read(bob, "C2Calice")
    conv.refresh_from_db()
    assert (conv.unread_count, conv.last_read_seq) == (0, conv.thread.last_seq)


def test_recalls_racing_sends_and_reads_keep_unread_equal_to_live_messages_after_cursor(people):
    """alice sends and recalls every other message while bob marks read and carol sends into
    the same group: each member's count stays the number of others' unrecalled messages
    after their cursor, and a message recalled from two tabs at once is recalled once."""
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    group = actions.create_group(alice, group_type="Public", name="Recalls", member_user_ids=["bob", "carol"])

    def sender_recaller():
        for i in range(30):
            message = send(alice, group.group_id, f"a {i}", "GROUP")
            if i % 2:
                actions.revoke_message(alice, group.conversation_id, message.msg_id)

    def reader():
        for _ in range(30):
            actions.mark_read(bob, group.conversation_id)

    def other_sender():
        for i in range(30):
            send(carol, group.group_id, f"c {i}", "GROUP")

    run_together([sender_recaller, reader, other_sender])
    twice = send(alice, group.group_id, "twice", "GROUP")
    results = run_together([lambda: actions.revoke_message(alice, group.conversation_id, twice.msg_id)] * 4)
    assert all(r.data == results[0].data and r.data["isRevoked"] for r in results)

    for conv in Conversation.objects.filter(thread=group.thread):
        live_after_cursor = (
            Message.objects.filter(thread=group.thread, seq__gt=conv.last_read_seq, type="TIMTextElem", is_revoked=False)
            .exclude(sender=conv.user)
            .count()
        )
        assert conv.unread_count == live_after_cursor, conv.user.username
    assert_gap_free(group.thread)


def test_receipts_racing_each_other_and_repeats_count_every_reader_once(people):
    """Forty readers confirm two messages at once, each in two concurrent calls (one per
    message, as two tabs would): every cursor lands on the newer one, never goes back,
    and the counts read from the cursors are exact."""
    from messaging.queries.receipts import get_message_read_receipt_list
    from messaging.schemas import MessageRef

    owner = people["alice"]
    readers = [actions.create_user(f"reader{i:02d}") for i in range(40)]
    actions.create_group(
        owner, group_type="Public", name="Receipts", group_id="rr", member_user_ids=[r.username for r in readers]
    )
    first = actions.send_message(
        owner, conversation_type="GROUP", to="rr", msg_type="TIMTextElem", payload={"text": "1"}, need_read_receipt=True
    ).message
    second = actions.send_message(
        owner, conversation_type="GROUP", to="rr", msg_type="TIMTextElem", payload={"text": "2"}, need_read_receipt=True
    ).message
    refs = [MessageRef(ID=m.msg_id, conversationID="GROUPrr") for m in (first, second)]

    moved = run_together([lambda r=r, ref=ref: actions.send_message_read_receipt(r, [ref]) for r in readers for ref in refs])

    assert 40 <= sum(moved) <= 80  # each reader's cursor moved once or twice, never more
    cursors = set(Conversation.objects.filter(thread_id=first.thread_id, user__in=readers).values_list("receipt_seq", flat=True))
    assert cursors == {second.seq}
    infos = [m["readReceiptInfo"] for m in get_message_read_receipt_list(owner, refs)["messageList"]]
    assert [(i["readCount"], i["unreadCount"]) for i in infos] == [(40, 0), (40, 0)]


def test_racing_join_applications_and_answers_keep_notices_gap_free_and_answer_once(people):
    """A new user added to six groups at once (their first notices race to make their system
    conversation), then six users applying at once to one group, whose owner and admin
    answer the same applications at the same moment: one system thread and conversation
    each, notices gap-free, each application answered once (the other gets 10024), each
    applicant told once."""
    from messaging.errors import ChatError
    from messaging.models import GroupApplication, GroupMember

    alice, bob = people["alice"], people["bob"]
    newbie = actions.create_user("newbie", password="pw")
    for i in range(6):
        actions.create_group(alice, group_type="Public", name=f"Room {i}", group_id=f"room{i}")
    run_together([lambda i=i: actions.add_members(alice, f"room{i}", ["newbie"]) for i in range(6)])
    assert Thread.objects.filter(key=f"system:{newbie.pk}").count() == 1
    assert assert_gap_free(Thread.objects.get(key=f"system:{newbie.pk}")) == [1, 2, 3, 4, 5, 6]
    assert Conversation.objects.get(user=newbie, conversation_id="@TIM#SYSTEM").unread_count == 6

    actions.create_group(alice, group_type="Public", name="Gate", group_id="gate", member_user_ids=["bob"])
    actions.set_member_role(alice, "gate", "bob", "Admin")
    alice_before = Thread.objects.get(key=f"system:{alice.pk}").last_seq  # "You created ..." (7 groups)
    actions.update_group_profile(alice, "gate", join_option="NeedPermission")
    applicants = [actions.create_user(f"app{i}", password="pw") for i in range(6)]

    run_together([lambda u=u: actions.join_group(u, "gate", apply_message=u.username) for u in applicants])

    for manager, before in ((alice, alice_before), (bob, 2)):  # bob: "added you", "made you an admin"
        thread = Thread.objects.get(key=f"system:{manager.pk}")
        assert assert_gap_free(thread) == list(range(1, before + 7))
        conv = Conversation.objects.get(user=manager, conversation_id="@TIM#SYSTEM")
        assert conv.unread_count == before + 6 and conv.last_message.seq == before + 6
    assert GroupApplication.objects.filter(status="Pending").count() == 6

    def notice(manager, applicant):
        messages = Message.objects.filter(thread__key=f"system:{manager.pk}")
        return next(
            m.msg_id for m in messages if m.payload["operationType"] == 1 and m.payload["operatorID"] == applicant.username
        )

    def answer(manager, applicant, action):
        def work():
            try:
                actions.handle_group_application(manager, notice(manager, applicant), action)
                return "ok"
            except ChatError as error:
                return error.code

        return work

    workers = []
    for applicant in applicants:
        workers += [answer(alice, applicant, "Agree"), answer(bob, applicant, "Reject")]
    results = run_together(workers)

    assert sorted(map(str, results)) == ["10024"] * 6 + ["ok"] * 6
    accepted = set(GroupApplication.objects.filter(status="Accepted").values_list("applicant__username", flat=True))
    refused = set(GroupApplication.objects.filter(status="Refused").values_list("applicant__username", flat=True))
    assert len(accepted) + len(refused) == 6
    members = set(GroupMember.objects.filter(group__group_id="gate").values_list("user__username", flat=True))
    assert members == {"alice", "bob"} | accepted
    for applicant in applicants:
        [told] = Message.objects.filter(thread__key=f"system:{applicant.pk}")
        assert told.payload["operationType"] == (2 if applicant.username in accepted else 3)


def test_racing_upload_creates_stop_at_the_pending_quota(people, settings):
    """12 parallel creates against a quota of 5 unfinished uploads: exactly 5 pass (the
    user's row lock orders them; an unlocked count would let them all see 0)."""
    from messaging.actions.uploads import OverQuota, create_upload
    from messaging.models import Upload

    settings.CHAT = {**getattr(settings, "CHAT", {}), "MAX_PENDING_UPLOADS": 5}
    alice = people["alice"]

    def attempt(index):
        def work():
            try:
                return create_upload(alice, kind="file", name=f"f{index}.txt", size=10).pk
            except OverQuota as refusal:
                return refusal.http_status

        return work

    results = run_together([attempt(i) for i in range(12)])
    assert sorted(r for r in results if r == 429) == [429] * 7
    assert Upload.objects.filter(owner=alice, status=Upload.Status.PENDING).count() == 5


def test_the_conversation_list_is_planned_in_written_join_order_and_the_setting_does_not_stay(people):
    """queries.joins_in_written_order: the conversation list's query runs with
    join_collapse_limit 1 (PostgreSQL spent ~8 ms choosing an order of its ten joins);
    the connection has the server's default again afterwards, also when the query fails."""
    from django.test.utils import CaptureQueriesContext

    from messaging.queries import joins_in_written_order
    from messaging.queries.conversation_list import get_conversation_list

    alice, bob = people["alice"], people["bob"]
    actions.send_message(alice, conversation_type="C2C", to="bob", msg_type="TIMTextElem", payload={"text": "hi"})

    def setting():
        with connection.cursor() as cursor:
            cursor.execute("SHOW join_collapse_limit")
            return cursor.fetchone()[0]

    default = setting()
    assert default != "1"
    with CaptureQueriesContext(connection) as captured:
        listed = get_conversation_list(bob)
    assert [c["conversationID"] for c in listed] == ["C2Calice"]
    statements = [q["sql"] for q in captured.captured_queries]
    assert statements[0] == "SET join_collapse_limit = 1" and statements[2] == "RESET join_collapse_limit"
    assert statements[1].startswith('SELECT "messaging_conversation"')
    assert setting() == default

    with pytest.raises(ZeroDivisionError), joins_in_written_order():
        assert setting() == "1"
        1 / 0  # noqa: B018
    assert setting() == default


def test_the_send_paths_hand_written_reads_equal_the_orms_on_postgresql(people):
    """messaging/rawsql.py on PostgreSQL: the peer and the group membership read by hand
    equal the ORM's reads field for field (tests/test_rawsql.py runs the same on SQLite)."""
    from tests.test_rawsql import check_membership_like_the_orm, check_peer_like_the_orm

    alice, bob = people["alice"], people["bob"]
    check_peer_like_the_orm(alice, bob)
    actions.send_message(alice, conversation_type="C2C", to="bob", msg_type="TIMTextElem", payload={"text": "hi"})
    check_peer_like_the_orm(bob, alice)
    actions.create_group(alice, group_type="Public", name="Raw", group_id="rawpg", member_user_ids=["bob"])
    check_membership_like_the_orm(alice, bob, "rawpg")


def test_the_compiled_reads_equal_the_orms_on_postgresql_in_threads(people):
    """messaging/compiled.py on PostgreSQL: the reads compiled once give each user the
    ORM's rows, also when four threads compile and run them at the same moment
    (tests/test_compiled.py runs the same on SQLite)."""
    from messaging import compiled
    from messaging.queries import conversation_list, groups, sync
    from tests.test_compiled import check_compiled_reads_like_the_orm, make_world

    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    make_world(alice, bob, carol)
    for query in (conversation_list.LIST_ROWS, groups.GROUP_LIST_ROWS, sync.CONVERSATION_ROWS):
        query._templates.clear()  # compiled by the threads below, not by an earlier test
    assert isinstance(sync.CONVERSATION_ROWS, compiled.CompiledQuery)
    run_together([lambda: check_compiled_reads_like_the_orm(alice, bob, carol) for _ in range(4)])


def test_a_send_into_an_existing_conversation_is_one_statement_committed_alone(people):
    """C2C (the pair's thread exists) and group text sends: the peer or membership read,
    then one statement (number, insert, conversation rows) in autocommit, no BEGIN or
    COMMIT; the rows it wrote are what a fresh read gives, and the events carry them."""
    from django.test.utils import CaptureQueriesContext

    from messaging.events import collect_events

    alice, carol = people["alice"], people["carol"]
    send(alice, "bob", "first")  # the thread and both rows (a transaction)
    group = actions.create_group(alice, group_type="Private", name="One", member_user_ids=["bob", "carol"])
    for to, kind in (("bob", "C2C"), (group.group_id, "GROUP")):
        with CaptureQueriesContext(connection) as captured, collect_events() as events:
            sent = send(alice, to, f"to {to}", kind)
        statements = [q["sql"] for q in captured.captured_queries]
        assert len(statements) == 2 and statements[1].startswith("WITH n AS ("), statements
        assert not any(sql in ("BEGIN", "COMMIT") for sql in statements)
        receivers = {"bob": 2} if kind == "C2C" else {"bob": 1, "carol": 1}
        for name, unread in receivers.items():
            row = Conversation.objects.get(user=people[name], thread=sent.thread)
            assert (row.unread_count, row.last_message_id) == (unread, sent.pk)
        assert Conversation.objects.get(user=alice, thread=sent.thread).unread_count == 0
        [(message, _targets)] = events
        counts = message["meta"].get("counts") or {pk: entry for pk, entry in message["meta"]["to"].items() if entry is not None}
        assert {int(pk): n for pk, n in counts.items() if int(pk) != alice.pk} == {
            people[name].pk: unread for name, unread in receivers.items()
        }
    assert not Message.objects.filter(thread__key=f"c2c:{min(alice.pk, carol.pk)}:{max(alice.pk, carol.pk)}").exists()


# The conversation columns a send sets; the rest (pk, user, peer, ids, times) differ by pair.
SENT_STATE = ("unread_count", "is_hidden", "last_read_seq", "min_seq", "cleared_seq", "receipt_seq", "deleted_change")


def pair_state(thread, sender):
    """A pair's thread, its first message and both conversation rows, as a fresh read gives
    them, named by role (the sender's row, the receiver's) so two pairs compare."""
    rows = {}
    for row in Conversation.objects.filter(thread=thread):
        role = "sender" if row.user_id == sender.pk else "receiver"
        rows[role] = {name: getattr(row, name) for name in SENT_STATE}
        rows[role]["last_message"] = None if row.last_message_id is None else Message.objects.get(pk=row.last_message_id).seq
        rows[role]["has_time"] = row.last_time is not None
        rows[role]["peer_is_the_other"] = row.peer_id in (thread.user_low_id, thread.user_high_id) and row.peer_id != row.user_id
    thread = Thread.objects.get(pk=thread.pk)
    messages = list(Message.objects.filter(thread=thread).values_list("seq", "change", "created_change"))
    return {"thread": (thread.last_seq, thread.last_change, thread.purged_seq), "messages": messages, **rows}


def test_a_pairs_first_message_is_one_statement_that_writes_what_the_transaction_did(people):
    """A C2C pair's first text message: the peer read, then ONE statement in autocommit
    (no BEGIN or COMMIT) that makes the thread, the message and both conversation rows.
    What it writes is what the transactional path (the thread made, then the numbered
    insert and the conversation UPDATE) writes for another pair, send options included,
    and the event's unread counts are the rows'. (One test, not parametrized: the
    parent test module lists this suite's tests by name.)"""
    from django.db import transaction
    from django.test.utils import CaptureQueriesContext

    from messaging.events import collect_events

    for n, control in enumerate([None, {"excludedFromUnreadCount": True}, {"excludedFromLastMessage": True}]):
        alice, bob, carol, dave = (actions.create_user(f"{name}{n}", password="pw") for name in ("al", "bo", "ca", "da"))

        def first(sender, to, control=control):
            return actions.send_message(
                sender,
                conversation_type="C2C",
                to=to,
                msg_type="TIMTextElem",
                payload={"text": "hi"},
                message_control_info=control,
            ).message

        with transaction.atomic():  # inside a transaction: the path of the thread made first
            before = first(carol, dave.username)
        with CaptureQueriesContext(connection) as captured, collect_events() as events:
            sent = first(alice, bob.username)
        statements = [q["sql"] for q in captured.captured_queries]
        assert len(statements) == 2 and statements[1].startswith("WITH t AS ("), (control, statements)
        assert pair_state(sent.thread, alice) == pair_state(before.thread, carol), control
        assert (sent.seq, sent.change) == (1, 1)
        assert Conversation.objects.get(user=bob, thread=sent.thread).conversation_id == f"C2C{alice.username}"
        [(message, _targets)] = events
        rows = dict(Conversation.objects.filter(thread=sent.thread).values_list("user_id", "unread_count"))
        assert {int(pk): count for pk, count in message["meta"]["counts"].items()} == rows, control
        # The pair goes on from there as any other.
        assert send(bob, alice.username, "back").seq == 2
        assert Conversation.objects.get(user=alice, thread=sent.thread).unread_count == 1
        assert Conversation.objects.get(user=bob, thread=sent.thread).unread_count == (
            0 if control == {"excludedFromUnreadCount": True} else 1
        )

    # Its parameters fit psycopg's cache of converted statements (at most 50): a pair's
    # first message after the first converts nothing again (both statements from the cache).
    from psycopg._queries import _query2pg

    eve, _frank = actions.create_user("eve", password="pw"), actions.create_user("frank", password="pw")
    before = _query2pg.cache_info()
    send(eve, "frank", "hi")
    after = _query2pg.cache_info()
    assert (after.hits - before.hits, after.misses - before.misses) == (2, 0), (before, after)


def test_a_first_message_whose_thread_was_made_meanwhile_goes_into_that_thread(people, monkeypatch):
    """The peer read saw no thread, and the pair's other first message made it before this
    send's statement ran: the statement writes nothing (the thread's key is taken) and
    the message goes into the thread that exists, numbered after the other."""
    from messaging.actions import message_send

    alice, bob = people["alice"], people["bob"]
    other = send(bob, "alice", "from bob first")
    read_peer = message_send.access_c2c_peer

    def before_the_thread(*args, **kwargs):
        peer = read_peer(*args, **kwargs)
        assert peer.c2c_thread_id == other.thread_id
        peer.c2c_thread_id = None  # as it was read a moment before bob's send committed
        return peer

    monkeypatch.setattr(message_send, "access_c2c_peer", before_the_thread)
    sent = send(alice, "bob", "from alice")
    assert sent.thread_id == other.thread_id and sent.seq == 2
    assert Thread.objects.filter(kind=Thread.Kind.C2C).count() == 1
    assert Conversation.objects.filter(thread=other.thread).count() == 2
    unread = dict(Conversation.objects.filter(thread=other.thread).values_list("user__username", "unread_count"))
    assert unread == {"alice": 1, "bob": 1}
    assert Conversation.objects.get(user=alice, thread=other.thread).last_message_id == sent.pk


def test_resends_racing_into_an_existing_c2c_thread_store_one_message(people):
    """The one-statement send's unique-ID race: the losers' statements fail alone (no
    transaction to abort), they get the stored message back, and no seq is skipped."""
    alice, bob = people["alice"], people["bob"]
    send(alice, "bob", "first")
    results = run_together([lambda: send(alice, "bob", "once", msg_id="client-id-3")] * 8)
    stored = Message.objects.get(sender=alice, msg_id="client-id-3")
    assert {m.pk for m in results} == {stored.pk}
    assert assert_gap_free(stored.thread) == [1, 2]
    assert send(bob, "alice", "next").seq == 3
    assert Conversation.objects.get(user=bob, thread=stored.thread).unread_count == 2
    assert Conversation.objects.get(user=alice, thread=stored.thread).unread_count == 1


def test_the_send_paths_statements_are_prepared_once_per_connection(people):
    """chatsite/settings.py on PostgreSQL: parameters bound by the server and statements
    prepared after CHAT_DB_PREPARE runs on a connection, so PostgreSQL parses and plans
    the send path's statements once per connection, not once per message. The same
    connection (one thread, the pool's) sends ten messages: the one-statement send is
    among the connection's prepared statements, prepared once however many messages
    went through it, and no statement is prepared twice."""
    from django.conf import settings

    options = settings.DATABASES["default"]["OPTIONS"]
    assert options.get("server_side_binding") is True and options.get("prepare_threshold") == 2, options
    alice = people["alice"]
    send(alice, "bob", "first")  # the thread and both rows
    for n in range(10):
        send(alice, "bob", f"text {n}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    sends = [sql for sql in prepared if sql.startswith("WITH n AS (")]
    assert len(sends) == 1, prepared
    assert len(prepared) == len(set(prepared)), prepared
    assert Message.objects.filter(sender=alice).count() == 11


def test_a_sends_conversation_rows_are_updated_in_place_hot(people):
    """migration 0027: a send rewrites each conversation row of its thread (last message,
    time, hidden, unread), and no index holds those columns nor does a constraint check
    the last message: PostgreSQL updates every row in place (heap-only tuples), with no
    new entry in any of the table's indexes. Counted by PostgreSQL itself for this
    transaction: every update of the table a HOT one, C2C and group alike. Reading the
    rows back still gives the last message."""
    from django.db import transaction

    alice, bob = people["alice"], people["bob"]
    send(alice, "bob", "first")  # the thread and both rows
    group = actions.create_group(alice, group_type="Public", name="Hot", member_user_ids=["bob", "carol", "dave"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'messaging_conversation'")
        assert cursor.fetchone()[0] == ["fillfactor=70"]
    with transaction.atomic():  # the counters below are this backend's not yet reported
        before = updates_of_conversation_rows()
        c2c = send(alice, "bob", "again")
        in_group = send(alice, group.group_id, "to all", "GROUP")
        updated, hot = (n - m for n, m in zip(updates_of_conversation_rows(), before, strict=True))
    assert updated == 2 + 4, updated  # the pair's two rows, the group's four
    assert hot == updated, f"{hot} of {updated} updates were HOT"
    assert Conversation.objects.get(user=bob, thread=c2c.thread).last_message_id == c2c.pk
    assert Conversation.objects.get(user=people["carol"], thread=in_group.thread).last_message_id == in_group.pk


def updates_of_conversation_rows():
    """PostgreSQL's counts of this backend's updates of the conversation table not yet
    reported to its statistics: (all, HOT)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_stat_get_xact_tuples_updated(c.oid), pg_stat_get_xact_tuples_hot_updated(c.oid)"
            " FROM pg_class c WHERE c.relname = 'messaging_conversation'"
        )
        return cursor.fetchone()
