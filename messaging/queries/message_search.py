"""searchCloudMessages: messages by text across the user's conversations, or within one.

The SDK's shape: ``{keywordList, keywordListMatchType, senderUserIDList, messageTypeList,
conversationID, timePosition, timePeriod, cursor}`` → ``{totalCount, searchResultList:
[{conversationID, messageCount, messageList}], cursor}``.

- **Across conversations** (no ``conversationID``): one result per conversation holding
  matches, the conversation with the newest match first; ``totalCount`` is the number of
  such conversations; ``messageList`` holds the match when it is the only one there, and
  is empty when there are more (the vendor's rule: the UI shows "N related messages" and
  searches that conversation to list them).
- **Within one conversation**: one result with every match a page at a time, newest
  first; ``totalCount`` and ``messageCount`` are the number of matches.

A keyword matches a case-insensitive substring of the message's searchable text: a text
message's text, a file's name, a custom or location message's description, a merged
message's title (``chat_search_text`` of migration 0024). Chinese, Japanese and Korean
need no word breaking: "你好" is found in "我说你好世界". On PostgreSQL the pg_trgm GIN
index of migration 0024 answers ``chat_search_text(payload) LIKE '%keyword%'`` for a
keyword of three characters or more; a shorter one is scanned within the user's
conversations. SQLite (the embedded default) scans with LIKE.

Access is history's (queries/message_list.py): only threads where the user has a
conversation row (quitting a group deletes it), from its ``first_seq`` (after the
pre-join history and what ``clearHistoryMessage`` cleared), through
``Message.visible_to`` (targeted messages, delete-for-me); never a recalled message nor
one a moderator deleted for everyone.

Queries: across conversations, the per-conversation counts, the single matches, the
page's conversation rows and the senders' name cards (at most 4); within one, the
conversation, the count, the page and the name cards (at most 4).
"""

from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import BooleanField, Count, F, Max, Q
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce
from django.utils import timezone

from messaging import rules, serialize
from messaging.access import access_conversation, peer_read_seq_subquery
from messaging.errors import ChatError, ErrorCode
from messaging.models import Conversation, Message, Thread, User
from messaging.queries.name_cards import name_cards

PAGE_DEFAULT = 20
PAGE_MAX = 100
MAX_KEYWORDS = 5
# What a search may find (TIM.TYPES.MSG_*): what people send, never group tips or notices.
SEARCHABLE_TYPES = (
    rules.TEXT,
    rules.IMAGE,
    rules.AUDIO,
    rules.VIDEO,
    rules.FILE,
    rules.CUSTOM,
    rules.FACE,
    rules.LOCATION,
    rules.MERGER,
)
# The searchable text of a message, as migration 0024's chat_search_text (SQLite's LIKE scan).
SEARCH_TEXT = Coalesce(KT("payload__text"), KT("payload__fileName"), KT("payload__description"), KT("payload__title"))
LIKE_MATCH = "chat_search_text({table}.payload) LIKE '%%' || lower(%s) || '%%'"


def escape_like(keyword: str) -> str:
    return keyword.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def keyword_condition(keyword: str) -> Q:
    if connection.vendor != "postgresql":
        return Q(search_text__icontains=keyword)
    sql = LIKE_MATCH.format(table=Message._meta.db_table)
    return Q(RawSQL(sql, [escape_like(keyword)], output_field=BooleanField()))


def parse_cursor(cursor: str) -> int | None:
    if not cursor:
        return None
    if not cursor.isdigit() or len(cursor) > 18:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, f"invalid cursor {cursor!r}: give the cursor of the previous page")
    return int(cursor)


def matching_messages(user: User, keywords, match, senders, types, time_position, time_period):
    """The messages ``user`` may see that match, as far as the message says (the thread's
    part a user may see is the caller's)."""
    found = Message.objects.visible_to(user).filter(is_revoked=False, deleted_at__isnull=True)
    found = found.filter(type__in=types or SEARCHABLE_TYPES)
    if keywords:
        if connection.vendor != "postgresql":
            found = found.annotate(search_text=SEARCH_TEXT)
        conditions = [keyword_condition(k) for k in keywords]
        condition = conditions[0]
        for other in conditions[1:]:
            condition = (condition & other) if match == "and" else (condition | other)
        found = found.filter(condition)
    if senders:
        found = found.filter(sender__username__in=senders)
    end = datetime.fromtimestamp(time_position, UTC) if time_position else None
    if end is not None:
        found = found.filter(created_at__lte=end)
    if time_period:
        found = found.filter(created_at__gte=(end or timezone.now()) - timedelta(seconds=time_period))
    return found


def search_cloud_messages(
    user: User,
    keywords=(),
    *,
    match="or",
    senders=(),
    types=(),
    conversation_id=None,
    time_position=0,
    time_period=0,
    cursor="",
    count=PAGE_DEFAULT,
) -> dict:
    keywords = list(dict.fromkeys(k.strip() for k in keywords if k.strip()))
    if not keywords and not senders and not types:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "keywordList needs a keyword when no sender nor message type is given")
    after = parse_cursor(cursor)
    found = matching_messages(user, keywords, match, senders, types, time_position, time_period)
    if conversation_id:
        return _search_conversation(user, conversation_id, found, after, count)
    return _search_all(user, found, after, count)


def _search_conversation(user, conversation_id, found, after, count):
    conv = access_conversation(user, conversation_id)
    empty = {"totalCount": 0, "searchResultList": [], "cursor": ""}
    if conv is None:
        return empty
    found = found.filter(thread_id=conv.thread_id, seq__gte=conv.first_seq)
    total = found.count()
    if not total:
        return empty
    if after is not None:
        found = found.filter(seq__lt=after)
    page = list(found.select_related("sender", "revoker").order_by("-seq")[: count + 1])
    more = len(page) > count
    page = page[:count]
    cards = _cards(conv, page)
    return {
        "totalCount": total,
        "searchResultList": [
            {
                "conversationID": conv.conversation_id,
                "messageCount": total,
                "messageList": [_message(user, conv, m, cards) for m in page],
            }
        ],
        "cursor": str(page[-1].seq) if more and page else "",
    }


def _search_all(user, found, after, count):
    found = found.filter(
        thread__conversations__user=user,
        seq__gte=F("thread__conversations__min_seq"),
        seq__gt=F("thread__conversations__cleared_seq"),
    )
    # One row per thread: its number of matches and its newest match (ids grow with time).
    groups = list(found.values("thread_id").annotate(matches=Count("pk"), newest=Max("pk")).order_by("-newest"))
    total = len(groups)
    if after is not None:
        groups = [g for g in groups if g["newest"] < after]
    more = len(groups) > count
    groups = groups[:count]
    singles = [g["newest"] for g in groups if g["matches"] == 1]
    messages = Message.objects.select_related("sender", "revoker").in_bulk(singles) if singles else {}
    convs = {
        c.thread_id: c
        for c in Conversation.objects.filter(user=user, thread_id__in=[g["thread_id"] for g in groups])
        .select_related("thread", "group")
        .annotate(peer_read_seq=peer_read_seq_subquery())
    }
    cards = name_cards(
        (m.thread_id, m.sender_id)
        for m in messages.values()
        if m.sender_id and convs[m.thread_id].thread.kind == Thread.Kind.GROUP
    )
    results = []
    for g in groups:
        conv = convs[g["thread_id"]]
        single = messages.get(g["newest"]) if g["matches"] == 1 else None
        results.append(
            {
                "conversationID": conv.conversation_id,
                "messageCount": g["matches"],
                "messageList": [_message(user, conv, single, cards)] if single else [],
            }
        )
    return {"totalCount": total, "searchResultList": results, "cursor": str(groups[-1]["newest"]) if more and groups else ""}


def _cards(conv, page):
    if conv.thread.kind != Thread.Kind.GROUP:
        return {}
    return name_cards((m.thread_id, m.sender_id) for m in page if m.sender_id)


def _message(user, conv, m, cards):
    thread = conv.thread
    if thread.kind == Thread.Kind.GROUP:
        to = conv.group.group_id
    elif thread.kind == Thread.Kind.C2C and m.sender_id == user.pk:
        to = conv.conversation_id.removeprefix(rules.C2C)
    else:
        to = user.username
    base = serialize.message_base(m, thread, sender=m.sender, to=to, name_card=cards.get((m.thread_id, m.sender_id), ""))
    return serialize.for_viewer(base, user.username, peer_read_seq=conv.peer_read_seq)
