"""Server-side times of getMessageList and getConversationList on a large data set.

Seed (bulk, kept between runs; ``--reseed`` rebuilds it):

- a C2C thread ``blist-a`` <-> ``blist-b`` of ``thread_messages`` messages (1,000,000),
  inserted by one ``INSERT ... SELECT ... FROM generate_series`` whose columns come
  from the Message model (a field the seed does not know takes its model default);
- a small C2C thread ``blist-sa`` <-> ``blist-sb`` of 100 messages, the same way;
- ``blist-many`` with ``conversations`` conversations (1,000; every 10th a group),
  each with one message, ``blist-mid`` with 100 and ``blist-few`` with 10, by ``bulk_create``
  (the list returns at most 100, so ``mid`` and ``many`` return as many items).

Timing: the query functions themselves (``messaging.queries``), in this process,
``runs`` times each after warm-up; median and p95 in ms, and the SQL query count of
one call (``CaptureQueriesContext``) on the small and the large data set.
"""

import statistics
import time
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Max
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.sql import generated_columns
from bench.stats import percentile
from messaging import rules
from messaging.models import Conversation, Group, GroupMember, Message, Thread, User
from messaging.queries.conversation_list import get_conversation_list
from messaging.queries.message_list import get_message_list

PREFIX = "blist-"


# --- seed ----------------------------------------------------------------------------------


def _insert_messages(thread, low, high, count):
    """``count`` messages seq 1..count into ``thread``, alternating senders, one statement."""
    known = {
        "thread_id": "%(thread)s",
        "seq": "g",
        "msg_id": "%(prefix)s || g",
        "sender_id": "CASE WHEN g %% 2 = 0 THEN %(low)s ELSE %(high)s END",
        "type": "'TIMTextElem'",
        "payload": "jsonb_build_object('text', 'seed message ' || g)",
        "created_at": "%(now)s - make_interval(secs => %(count)s - g)",
        "client_time": "extract(epoch FROM %(now)s)::bigint - (%(count)s - g)",
    }
    params = {"thread": thread.pk, "prefix": f"t{thread.pk}-", "low": low.pk, "high": high.pk, "now": timezone.now()}
    params["count"] = count
    columns, exprs = generated_columns(Message, known, params)
    sql = (
        f"INSERT INTO {Message._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(exprs)} FROM generate_series(1, %(count)s) AS g"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        cursor.execute("UPDATE messaging_thread SET last_seq = %s WHERE id = %s", [count, thread.pk])
    last = Message.objects.get(thread=thread, seq=count)
    for user, peer in ((low, high), (high, low)):
        Conversation.objects.create(
            user=user,
            thread=thread,
            peer=peer,
            conversation_id=rules.c2c_conversation_id(peer.username),
            last_message=last,
            last_time=last.created_at,
            last_read_seq=count // 2,
            unread_count=count - count // 2 if user == low else 0,
        )


def _c2c_thread(a, b, count):
    low, high = sorted((a, b), key=lambda u: u.pk)
    thread = Thread.objects.create(kind=Thread.Kind.C2C, key=Thread.c2c_key(a.pk, b.pk), user_low=low, user_high=high)
    _insert_messages(thread, low, high, count)
    return thread


def _many_conversations(user, count, tag):
    """``count`` conversations of ``user`` (every 10th a group), one message each."""
    peers = User.objects.bulk_create([User(username=f"{PREFIX}{tag}p{i:04d}", nick=f"peer {i}") for i in range(count)])
    now = timezone.now()
    threads, groups = [], []
    for i, peer in enumerate(peers):
        if i % 10 == 9:
            threads.append(Thread(kind=Thread.Kind.GROUP, key=f"group:{PREFIX}{tag}g{i:04d}", last_seq=1))
        else:
            low, high = sorted((user, peer), key=lambda u: u.pk)
            threads.append(
                Thread(kind=Thread.Kind.C2C, key=Thread.c2c_key(user.pk, peer.pk), user_low=low, user_high=high, last_seq=1)
            )
    threads = Thread.objects.bulk_create(threads)
    for i, thread in enumerate(threads):
        if thread.kind == Thread.Kind.GROUP:
            groups.append(
                Group(
                    group_id=f"{PREFIX}{tag}g{i:04d}",
                    name=f"group {i}",
                    type="Private",
                    owner=user,
                    member_count=2,
                    thread=thread,
                )
            )
    groups = {g.thread_id: g for g in Group.objects.bulk_create(groups)}
    GroupMember.objects.bulk_create(
        [GroupMember(group=g, user=user, role="Owner") for g in groups.values()]
        + [GroupMember(group=groups[t.pk], user=p, role="Member") for p, t in zip(peers, threads, strict=True) if t.pk in groups]
    )
    messages = Message.objects.bulk_create(
        [
            Message(
                thread=t,
                seq=1,
                msg_id=f"{PREFIX}{tag}{i}",
                sender=p,
                type="TIMTextElem",
                payload={"text": f"hello {i}"},
                created_at=now - timedelta(minutes=i),
                client_time=int(now.timestamp()) - 60 * i,
            )
            for i, (p, t) in enumerate(zip(peers, threads, strict=True))
        ]
    )
    conversations = []
    for i, (peer, thread, message) in enumerate(zip(peers, threads, messages, strict=True)):
        group = groups.get(thread.pk)
        for viewer, other in ((user, peer), (peer, user)):
            conversations.append(
                Conversation(
                    user=viewer,
                    thread=thread,
                    peer=None if group else other,
                    group=group,
                    conversation_id=group.conversation_id if group else rules.c2c_conversation_id(other.username),
                    last_message=message,
                    last_time=message.created_at,
                    unread_count=1 if viewer == user else 0,
                    is_pinned=viewer == user and i % 100 == 50,
                )
            )
    Conversation.objects.bulk_create(conversations, batch_size=2000)


def seed_exists(thread_messages, conversations):
    a = User.objects.filter(username=f"{PREFIX}a").first()
    many = User.objects.filter(username=f"{PREFIX}many").first()
    if a is None or many is None or not User.objects.filter(username=f"{PREFIX}mid").exists():
        return False
    last = Thread.objects.filter(kind=Thread.Kind.C2C, conversations__user=a).aggregate(m=Max("last_seq"))["m"]
    return last == thread_messages and Conversation.objects.filter(user=many).count() == conversations


def seed(thread_messages=1_000_000, conversations=1000, log=print):
    started = time.monotonic()
    with transaction.atomic():
        users = {n: User.objects.create(username=f"{PREFIX}{n}", nick=n) for n in ("a", "b", "sa", "sb", "many", "mid", "few")}
        _c2c_thread(users["a"], users["b"], thread_messages)
        log(f"  {thread_messages:,} messages inserted ({time.monotonic() - started:.1f} s)")
        _c2c_thread(users["sa"], users["sb"], 100)
        _many_conversations(users["many"], conversations, "m")
        _many_conversations(users["mid"], 100, "d")
        _many_conversations(users["few"], 10, "f")
    with connection.cursor() as cursor:
        for table in ("messaging_message", "messaging_conversation", "messaging_thread", "messaging_user"):
            cursor.execute(f"ANALYZE {table}")
    log(f"  seed done in {time.monotonic() - started:.1f} s")


# --- timing --------------------------------------------------------------------------------


def _time(fn, runs):
    for _ in range(3):
        fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - t))
    return statistics.median(times), percentile(times, 95)


def _count(fn):
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries), [q["sql"] for q in ctx.captured_queries]


def _explain(sql):
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY ON) " + sql)
        return [row[0] for row in cursor.fetchall()]


def measure(thread_messages, runs=50):
    names = [PREFIX + n for n in ("a", "b", "sa", "sb", "many", "mid", "few")]
    user = {u.username[len(PREFIX) :]: u for u in User.objects.filter(username__in=names)}
    a, sa, many, mid, few = user["a"], user["sa"], user["many"], user["mid"], user["few"]
    thread = Thread.objects.get(key=Thread.c2c_key(a.pk, user["b"].pk))
    small_thread = Thread.objects.get(key=Thread.c2c_key(sa.pk, user["sb"].pk))
    deep = f"t{thread.pk}-{thread_messages // 2}"
    oldest = f"t{thread.pk}-20"
    small_deep = f"t{small_thread.pk}-50"

    cases = [
        ("getMessageList, newest page", "large", lambda: get_message_list(a, "C2Cblist-b")),
        ("getMessageList, newest page", "small", lambda: get_message_list(sa, "C2Cblist-sb")),
        (
            f"getMessageList, page before seq {thread_messages // 2:,}",
            "large",
            lambda: get_message_list(a, "C2Cblist-b", next_req_message_id=deep),
        ),
        (
            "getMessageList, page before seq 50",
            "small",
            lambda: get_message_list(sa, "C2Cblist-sb", next_req_message_id=small_deep),
        ),
        (
            "getMessageList, oldest page (before seq 20)",
            "large",
            lambda: get_message_list(a, "C2Cblist-b", next_req_message_id=oldest),
        ),
        ("getConversationList", "large", lambda: get_conversation_list(many)),
        ("getConversationList", "medium", lambda: get_conversation_list(mid)),
        ("getConversationList", "small", lambda: get_conversation_list(few)),
    ]
    sizes = {
        "getMessageList": {"large": f"{thread_messages:,} messages", "small": "100 messages"},
        "getConversationList": {
            "large": f"{Conversation.objects.filter(user=many).count():,} conversations",
            "medium": f"{Conversation.objects.filter(user=mid).count()} conversations",
            "small": f"{Conversation.objects.filter(user=few).count()} conversations",
        },
    }
    rows, explains = [], {}
    for name, size, fn in cases:
        queries, sqls = _count(fn)
        med, p95 = _time(fn, runs)
        result = fn()
        items = len(result["messageList"]) if isinstance(result, dict) else len(result)
        rows.append(
            {
                "call": name,
                "data": sizes[name.split(",")[0]][size],
                "median_ms": med,
                "p95_ms": p95,
                "queries": queries,
                "items": items,
            }
        )
        if size == "large":
            # Only queries have plans (the conversation list also sets and resets
            # join_collapse_limit around its query).
            explains[name] = [
                {"sql": sql, "plan": _explain(sql)} for sql in sqls if sql.lstrip().upper().startswith(("SELECT", "WITH"))
            ]
    return rows, explains
