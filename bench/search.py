"""Message search (searchCloudMessages) on PostgreSQL over 1,000,000 messages.

    python -m bench.search [--messages 1000000] [--searches 200] [--keep] [--explain]

Makes its own database (``chat_bench_search``, dropped at the end unless ``--keep``),
migrates it (migration 0024: pg_trgm and the GIN index over ``chat_search_text(payload)``),
loads ``USERS`` users, ``THREADS`` C2C threads (each user in 20) and ``--messages``
text messages spread over them, in ``INSERT ... SELECT generate_series`` statements:
half English, 40 % Chinese, 5 % Japanese, 5 % Korean, each 3–11 words drawn from a
vocabulary of a few hundred words and a tail of rare "ticket" words (one in 1,000
messages holds one). ANALYZEs, then times ``--searches`` calls of
``queries.message_search.search_cloud_messages`` by random users, half across all their
conversations and half within one, with keywords of every script and length (common
and rare words, two-character CJK words, three-character and longer ones). Prints the
table and index sizes, median and p95 (ms) overall and by keyword kind, and the plan
of a search (``--explain``).
"""

import random
import time

from bench import stack
from bench.directory import on_scratch_database, scratch_parser
from bench.sql import generated_columns
from bench.stats import percentile

DEFAULT_DATABASE_URL = stack.DEFAULT_DATABASE_URL.rsplit("/", 1)[0] + "/chat_bench_search"
USERS = 1000
THREADS = 10_000  # user x with x+1 .. x+10: every user in 20 conversations
ENGLISH = (
    "the a to and of is in it you that for on with this at be are have not we can will do about get "
    "meeting deploy tomorrow budget report lunch coffee weekend project deadline server database release "
    "update thanks great idea call later sounds good hello world review please noon morning evening train "
    "flight hotel invoice contract design mockup feedback customer support ticket bug crash fix merge branch "
    "test staging production backup migration schedule agenda minutes office remote holiday birthday party "
    "dinner movie music football weather rain sunny cold hot traffic delay sorry maybe sure okay yes no"
).split()
CHINESE = (
    "你好 世界 会议 明天 下午 部署 预算 报告 午饭 咖啡 周末 项目 截止 服务器 数据库 发布 更新 谢谢 好主意 晚点 "
    "打电话 听起来 不错 我说 今天 天气 真好 记录 问题 解决 客户 合同 设计 反馈 测试 上线 备份 迁移 日程 议程 "
    "办公室 远程 假期 生日 聚会 晚饭 电影 音乐 足球 下雨 晴天 很冷 很热 堵车 延迟 抱歉 也许 当然 好的 是的 "
    "不是 我们 他们 已经 还没 马上 一起 需要 可以 应该 觉得 知道 看看 大家 老板 同事 朋友 家人 周一 周五"
).split()
JAPANESE = (
    "こんにちは ありがとう 会議 明日 お願いします 東京 すみません 了解 資料 確認 予定 大丈夫 お疲れ様です 週末 電話".split()
)
KOREAN = "안녕하세요 감사합니다 회의 내일 서울 좋아요 괜찮아요 확인 자료 일정 주말 전화 수고하셨습니다 점심 커피".split()
RARE = 5000  # "ticket-<n>" / "工单<n>": each in ~1 of 5,000,000 ... a rare, exact word
KEYWORDS = {
    "latin common": ["meeting", "deploy", "review", "the budget"],
    "latin rare": ["ticket-4242", "ticket-77", "nonexistent"],
    "cjk 2 chars": ["你好", "会议", "회의", "東京"],
    "cjk 1 char": ["好", "会"],
    "cjk 3+ chars": ["服务器", "数据库迁移", "お願いします", "수고하셨습니다", "工单123"],
}


def parse_args(argv=None):
    p = scratch_parser(
        "bench.search",
        __doc__,
        "BENCH_SEARCH_DATABASE_URL",
        DEFAULT_DATABASE_URL,
        seed=11,
        explain_help="print the plan of each keyword kind's first search",
    )
    p.add_argument("--messages", type=int, default=1_000_000)
    return p.parse_args(argv)


def load_search_world(messages, threads=THREADS):
    """Users ``s0``..``s999``, the C2C threads of each user with the next ten, both
    conversation rows of each, and ``messages`` messages round-robin over the threads
    (seq gap-free in each), newest last. Fewer ``threads`` make long conversations (the
    PostgreSQL test of the index, tests/integration/test_message_search_pg.py)."""
    from django.db import connection
    from django.utils import timezone

    from messaging.models import Conversation, Message, Thread, User

    now = timezone.now()
    params = {"now": now, "users": USERS, "threads": threads, "messages": messages}
    user_cols, user_exprs = generated_columns(
        User,
        {"username": "'s' || g", "nick": "'Search ' || g", "password": "'!'", "is_active": "true", "date_joined": "%(now)s"},
        params,
    )
    # Thread g (0-based) pairs user a = g % 1000 with b = (a + 1 + g / 1000) % 1000.
    pair = "(g %% 1000) AS a, ((g %% 1000) + 1 + g / 1000) %% 1000 AS b"
    thread_cols, thread_exprs = generated_columns(
        Thread,
        {
            "kind": "'C2C'",
            "key": "'c2c:' || least(ua.id, ub.id) || ':' || greatest(ua.id, ub.id)",
            "last_seq": f"(%(messages)s - 1 - g) / {threads} + 1",
            "last_change": f"(%(messages)s - 1 - g) / {threads} + 1",
            "user_low_id": "least(ua.id, ub.id)",
            "user_high_id": "greatest(ua.id, ub.id)",
            "created_at": "%(now)s",
        },
        params,
    )
    words = {"en": list(ENGLISH), "zh": list(CHINESE), "ja": JAPANESE, "ko": KOREAN}
    params.update(words)
    text = (
        "CASE WHEN r < 0.5 THEN (SELECT string_agg(w, ' ') FROM (SELECT (%(en)s::text[])[1 + floor(random() * {en})::int + 0 * i] AS w "
        "FROM generate_series(1, 3 + g %% 9) AS i) AS ws) "
        "WHEN r < 0.9 THEN (SELECT string_agg(w, '') FROM (SELECT (%(zh)s::text[])[1 + floor(random() * {zh})::int + 0 * i] AS w "
        "FROM generate_series(1, 3 + g %% 7) AS i) AS ws) "
        "WHEN r < 0.95 THEN (SELECT string_agg(w, '') FROM (SELECT (%(ja)s::text[])[1 + floor(random() * {ja})::int + 0 * i] AS w "
        "FROM generate_series(1, 2 + g %% 4) AS i) AS ws) "
        "ELSE (SELECT string_agg(w, ' ') FROM (SELECT (%(ko)s::text[])[1 + floor(random() * {ko})::int + 0 * i] AS w "
        "FROM generate_series(1, 2 + g %% 4) AS i) AS ws) END"
    ).format(**{k: len(v) for k, v in words.items()})
    rare = f"CASE WHEN g %% 1000 = 7 THEN CASE WHEN r < 0.5 THEN ' ticket-' ELSE ' 工单' END || (g / 1000) %% {RARE} ELSE '' END"
    message_cols, message_exprs = generated_columns(
        Message,
        {
            "thread_id": f"t0 + g %% {threads}",
            "seq": f"g / {threads} + 1",
            "msg_id": "'b' || g",
            "sender_id": "CASE WHEN g %% 2 = 0 THEN tl.user_low_id ELSE tl.user_high_id END",
            "type": "'TIMTextElem'",
            "payload": f"jsonb_build_object('text', {text} || {rare})",
            "created_at": "%(now)s - make_interval(secs => %(messages)s - g)",
            "change": f"g / {threads} + 1",
            "created_change": f"g / {threads} + 1",
        },
        params,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {User._meta.db_table} ({', '.join(user_cols)}) "
            f"SELECT {', '.join(user_exprs)} FROM generate_series(0, %(users)s - 1) AS g",
            params,
        )
        cursor.execute(
            f"INSERT INTO {Thread._meta.db_table} ({', '.join(thread_cols)}) "
            f"SELECT {', '.join(thread_exprs)} FROM (SELECT g, {pair} FROM generate_series(0, %(threads)s - 1) AS g) AS p "
            f"JOIN {User._meta.db_table} ua ON ua.username = 's' || p.a JOIN {User._meta.db_table} ub ON ub.username = 's' || p.b "
            "ORDER BY g",
            params,
        )
        cursor.execute(f"SELECT min(id) FROM {Thread._meta.db_table}")
        params["t0"] = cursor.fetchone()[0]
        message_exprs = [e.replace("t0 +", "%(t0)s +") for e in message_exprs]
        cursor.execute(
            f"INSERT INTO {Message._meta.db_table} ({', '.join(message_cols)}) "
            f"SELECT {', '.join(message_exprs)} FROM (SELECT g, random() AS r FROM generate_series(0, %(messages)s - 1) AS g) AS s "
            f"JOIN {Thread._meta.db_table} tl ON tl.id = %(t0)s + g %% {threads}",
            params,
        )
        conv_cols, conv_exprs = generated_columns(
            Conversation,
            {
                "user_id": "me.id",
                "thread_id": "t.id",
                "conversation_id": "'C2C' || peer.username",
                "peer_id": "peer.id",
                "last_time": "%(now)s",
            },
            params,
        )
        for me, peer in (("user_low_id", "user_high_id"), ("user_high_id", "user_low_id")):
            cursor.execute(
                f"INSERT INTO {Conversation._meta.db_table} ({', '.join(conv_cols)}) "
                f"SELECT {', '.join(conv_exprs)} FROM {Thread._meta.db_table} t "
                f"JOIN {User._meta.db_table} me ON me.id = t.{me} JOIN {User._meta.db_table} peer ON peer.id = t.{peer}",
                params,
            )
        for table in (User, Thread, Message, Conversation):
            cursor.execute(f"ANALYZE {table._meta.db_table}")


def sizes():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_size_pretty(pg_table_size('messaging_message')), "
            "pg_size_pretty(pg_relation_size('messaging_message_search_trgm')), count(*) FROM messaging_message"
        )
        return cursor.fetchone()


def measure(searches, seed, explain=False):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from messaging.models import Conversation, User
    from messaging.queries.message_search import search_cloud_messages

    rng = random.Random(seed)
    users = list(User.objects.filter(username__startswith="s").values_list("pk", flat=True))
    plan = []
    for i in range(searches):
        kind = list(KEYWORDS)[i % len(KEYWORDS)]
        plan.append((kind, rng.choice(KEYWORDS[kind]), rng.choice(users), i % 2 == 1))
    viewers = {u.pk: u for u in User.objects.filter(pk__in={p[2] for p in plan})}
    convs = {}
    for c in Conversation.objects.filter(user_id__in=viewers).values_list("user_id", "conversation_id"):
        convs.setdefault(c[0], []).append(c[1])
    for _kind, word, user, _within in plan[:20]:  # warm-up
        search_cloud_messages(viewers[user], [word])
    times, by_kind, found = [], {}, []
    explained = set()
    for kind, word, user, within in plan:
        viewer = viewers[user]
        conversation = rng.choice(convs[user]) if within else None
        start = time.perf_counter()
        result = search_cloud_messages(viewer, [word], conversation_id=conversation)
        elapsed = (time.perf_counter() - start) * 1000
        times.append(elapsed)
        by_kind.setdefault((kind, "within one" if within else "all"), []).append(elapsed)
        found.append(sum(r["messageCount"] for r in result["searchResultList"]))
        if explain and kind not in explained:
            explained.add(kind)
            with CaptureQueriesContext(connection) as queries:
                search_cloud_messages(viewer, [word], conversation_id=conversation)
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + queries[0 if not within else 1]["sql"])
                print(f"--- {kind} {word!r} {'within one' if within else 'all'}")
                print("\n".join(row[0] for row in cursor.fetchall()))
    print(f"{len(times)} searches; matches per search: median {sorted(found)[len(found) // 2]}, max {max(found)}")
    print(f"{'keyword kind':>14} {'scope':>11} {'searches':>9} {'median ms':>10} {'p95 ms':>8}")
    for (kind, scope), values in sorted(by_kind.items()):
        print(f"{kind:>14} {scope:>11} {len(values):>9} {percentile(values, 50):>10.2f} {percentile(values, 95):>8.2f}")
    print(f"{'all':>14} {'':>11} {len(times):>9} {percentile(times, 50):>10.2f} {percentile(times, 95):>8.2f}")


def main(argv=None):
    args = parse_args(argv)

    def work():
        start = time.perf_counter()
        load_search_world(args.messages)
        print(f"loaded {args.messages:,} messages and built the index in {time.perf_counter() - start:.0f} s")
        table, index, count = sizes()
        print(f"messages: {count:,}; table {table}; trigram index {index}")
        measure(args.searches, args.seed, explain=args.explain)

    on_scratch_database(args.database_url, args.keep, work)


if __name__ == "__main__":
    main()
