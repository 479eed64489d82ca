"""Retention: messages and their files older than ``RETENTION_DAYS`` are purged
(``manage.py purge_history``; a moderator sets the days in the admin's Chat settings,
0 keeps everything for ever).

A purge removes a *prefix* of each thread: every message up to the newest one older
than the cut-off (a message stamped a little later by a skewed clock but stored before
it goes with it), so what stays of a thread is one unbroken run of sequences. It is
recorded on the thread (``Thread.purged_seq``) and in each of its conversation rows,
whose ``min_seq`` (the first message its user may see, which every read already
starts from: getMessageList, sync, receipts, revoke) is raised past it. So the missing
part is intentional: history pages end at the purge (``isCompleted``), and ``sync``
neither returns nor asks for it (purging takes no change number: nothing about the
remaining messages changed, and a client's cursor stays valid).

Conversation rows stay consistent in the same transaction: a conversation whose last
message was purged has none (a message after it in the thread would have been its last
message, unless it is excluded from it or targeted at others: none of those become one
later either); its unread count loses the purged messages that counted for it (the
rules of the send: not its own, not recalled, not targeted, not excluded from unread
counts, not a tip, from its ``min_seq`` on, after its read cursor). Open tabs get the
new count and the empty last message as CONVERSATION_LIST_UPDATED patches.

Files: an upload attached only to purged messages is removed (row, and its bytes and
variants from storage once the batch commits); one still attached to a kept message (a
forward) stays. Work is done in batches of ``batch`` messages, one transaction each,
threads locked in pk order (the same row lock that orders sends).
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.db.models import Count, F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from messaging import conf, rules, runtime, storage
from messaging.events import publish_on_commit
from messaging.models import Conversation, Message, Thread, Upload

NOT_COUNTED_IN_GROUPS = (rules.GROUP_TIP, rules.GROUP_SYSTEM_NOTICE)


@dataclass
class PurgeResult:
    messages: int = 0
    files: int = 0
    batches: int = 0
    threads: set = field(default_factory=set)


def purge_history(*, days=None, batch=None, now=None) -> PurgeResult:
    """Purge every message older than ``days`` (default: the run-time RETENTION_DAYS; 0
    purges nothing) in batches of ``batch`` messages (default PURGE_BATCH_SIZE)."""
    days = runtime.get("RETENTION_DAYS") if days is None else days
    batch = conf.get("PURGE_BATCH_SIZE") if batch is None else batch
    if not isinstance(batch, int) or batch < 1:
        raise ValueError("the batch size must be a positive integer")
    result = PurgeResult()
    if not days:
        return result
    cutoff = (now or timezone.now()) - timedelta(days=days)
    while purge_batch(cutoff, batch, result):
        result.batches += 1
    return result


def purge_batch(cutoff, batch: int, result: PurgeResult) -> bool:
    """One transaction: the oldest ``batch`` messages before ``cutoff`` (and each thread's
    prefix up to them). Returns whether anything was purged."""
    with transaction.atomic():
        rows = list(Message.objects.filter(created_at__lt=cutoff).order_by("pk").values_list("thread_id", "seq")[:batch])
        if not rows:
            return False
        through = {}
        for thread_id, seq in rows:
            through[thread_id] = max(seq, through.get(thread_id, 0))
        threads = list(
            Thread.objects.select_for_update(of=("self",)).filter(pk__in=through).select_related("group").order_by("pk")
        )
        doomed_uploads = set()
        for thread in threads:
            upto = through[thread.pk]
            patches = _fix_conversations(thread, upto)
            messages = Message.objects.filter(thread=thread, seq__lte=upto)
            doomed_uploads.update(Upload.objects.filter(messages__in=messages).values_list("pk", flat=True))
            deleted, by_model = messages.delete()
            result.messages += by_model.get(Message._meta.label, 0)
            Thread.objects.filter(pk=thread.pk).update(purged_seq=Greatest(F("purged_seq"), Value(upto)))
            result.threads.add(thread.pk)
            for user_id, patch, unread in patches:
                publish_on_commit(
                    "CONVERSATION_LIST_UPDATED",
                    [patch],
                    [user_id],
                    meta={"unread": {str(user_id): [patch["conversationID"], unread]}},
                )
        result.files += _remove_orphan_uploads(doomed_uploads)
    return True


def _fix_conversations(thread: Thread, upto: int):
    """Unread counts, last messages and ``min_seq`` of ``thread``'s conversation rows
    before its messages up to ``upto`` go; returns (user pk, patch, unread) for each row
    whose list entry changed."""
    counted = thread.kind != Thread.Kind.GROUP or thread.group.counts_unread
    convs = Conversation.objects.filter(thread=thread)
    before = {pk: (unread, last_seq) for pk, unread, last_seq in convs.values_list("pk", "unread_count", "last_message__seq")}
    if counted:
        purged_unread = (
            Message.objects.filter(
                thread=thread,
                seq__lte=upto,
                seq__gt=OuterRef("last_read_seq"),
                seq__gte=OuterRef("min_seq"),
                is_revoked=False,
                is_targeted=False,
                excluded_from_unread_count=False,
            )
            .exclude(sender_id=OuterRef("user_id"))
            .exclude(type__in=NOT_COUNTED_IN_GROUPS if thread.kind == Thread.Kind.GROUP else ())
            .order_by()
            .values("thread_id")
            .annotate(n=Count("pk"))
            .values("n")
        )
        convs.filter(last_read_seq__lt=upto, unread_count__gt=0).update(
            unread_count=Greatest(F("unread_count") - Coalesce(Subquery(purged_unread), Value(0)), Value(0))
        )
    convs.filter(last_message__seq__lte=upto).update(last_message=None)
    convs.filter(min_seq__lte=upto).update(min_seq=upto + 1)
    patches = []
    for pk, user_id, conversation_id, unread, is_hidden in convs.values_list(
        "pk", "user_id", "conversation_id", "unread_count", "is_hidden"
    ):
        old_unread, last_seq = before[pk]
        patch = {"conversationID": conversation_id}
        if unread != old_unread:
            patch["unreadCount"] = unread
        if last_seq is not None and last_seq <= upto:
            patch["lastMessage"] = {}
        if len(patch) > 1 and not is_hidden:
            patches.append((user_id, patch, unread))
    return patches


def _remove_orphan_uploads(upload_pks) -> int:
    """The uploads among ``upload_pks`` no message refers to any more: rows now, bytes
    once the transaction commits."""
    orphans = list(Upload.objects.filter(pk__in=upload_pks, messages__isnull=True).values_list("pk", "key", "variants"))
    if not orphans:
        return 0
    Upload.objects.filter(pk__in=[pk for pk, _, _ in orphans]).delete()
    keys = stored_keys(orphans)
    transaction.on_commit(lambda: [storage.discard(key) for key in keys])
    return len(orphans)


def stored_keys(rows) -> list[str]:
    """Every stored object of uploads given as (pk, key, variants): the file and each variant."""
    keys = []
    for _, key, variants in rows:
        keys.append(key)
        keys.extend(v["key"] for v in (variants or {}).values() if isinstance(v, dict) and v.get("key") and v["key"] != key)
    return keys
