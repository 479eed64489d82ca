"""Group system notices: messages in each user's system conversation (``@TIM#SYSTEM``).

Storage: each user has one Thread of kind SYSTEM (key ``system:<user pk>``) and one
Conversation row on it (conversationID ``@TIM#SYSTEM``), made with the user's first
notice. A notice is an ordinary Message in that thread (type TIMGroupSystemNoticeElem,
no sender), so getMessageList, getConversationList, setMessageRead, deleteConversation
and ``sync`` read it with the queries they already have, and the thread's change
counter lets a client that was offline recover it like any message.

``post_notices`` posts one notice to each of several users (the owner and admins of a
group, the members of a dismissed group) in a fixed number of statements, whatever
their number: the threads (one SELECT; two INSERTs and a SELECT the first time), one
UPDATE ... RETURNING that takes every thread's next ``seq`` and change number, one
INSERT ... SELECT of the messages (from those thread rows), one UPDATE ... RETURNING
of the conversations (unread +1, last message, shown again). Each recipient then gets MESSAGE_RECEIVED on their own sockets, with
the conversation's patch; the system conversation's unread count is its own and is
left out of the total (TIM.md §4.2).

Notice payload (TIM.md §2.1): ``{operationType, operatorID, groupProfile,
handleMessage, userDefinedField}``; ``groupProfile`` is the group's profile plus
``groupName`` (the seed's parseGroupSystemNotice reads that name).
"""

import copy
import secrets
import time

from django.db import connection
from django.utils import timezone

from messaging import rules, serialize
from messaging.actions.message_send import ORDINARY, new_message_row
from messaging.events import publish_on_commit
from messaging.models import Conversation, Group, Message, Thread, User

# TIMGroupSystemNoticeElem operationType (TIM.md §2.1; the seed's parseGroupSystemNotice).
JOIN_APPLICATION = 1
APPLICATION_ACCEPTED = 2
APPLICATION_REFUSED = 3
KICKED_OUT = 4
GROUP_DISMISSED = 5
GROUP_CREATED = 6
INVITED = 7
QUIT = 8
SET_ADMIN = 9
CANCELED_ADMIN = 10
CUSTOM = 255


def system_thread_key(user_pk) -> str:
    return f"system:{user_pk}"


def notice_payload(
    operation_type, operator: User | None, group: Group, *, handle_message="", user_defined="", to_stranger=False
) -> dict:
    """A notice's payload. ``group`` needs ``thread`` selected (and ``owner``, or it queries once).
    ``to_stranger``: the receivers are not members (a refused applicant): the group as a
    non-member sees it (``serialize.stranger_group_profile``)."""
    profile = serialize.stranger_group_profile(group) if to_stranger else serialize.group_profile(group)
    return {
        "operationType": operation_type,
        "operatorID": operator.username if operator else "",
        "groupProfile": {**profile, "groupName": group.name},
        "handleMessage": handle_message,
        "userDefinedField": user_defined,
    }


def post_notices(users, payload: dict, *, origin=None) -> dict:
    """Post the notice ``payload`` to each of ``users``' system conversations. Call inside
    the action's transaction; events go out after commit. Returns {user pk: Message}."""
    users = {user.pk: user for user in users if user is not None}
    if not users:
        return {}
    threads = _system_threads(users.values())
    by_thread = {threads[pk].pk: pk for pk in users}
    thread_ids = list(by_thread)
    placeholders = ", ".join(["%s"] * len(thread_ids))
    now = timezone.now()
    template = new_message_row(
        None,
        0,
        None,
        rules.GROUP_SYSTEM_NOTICE,
        payload,
        None,
        now=now,
        msg_id=f"{rules.SYSTEM_CONVERSATION_ID}-{int(time.time())}-{secrets.randbelow(10**9)}",
        control=ORDINARY,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE messaging_thread SET last_seq = last_seq + 1, last_change = last_change + 1"
            f" WHERE id IN ({placeholders}) RETURNING id, last_seq, last_change",
            thread_ids,
        )
        numbers = {thread_id: (seq, change) for thread_id, seq, change in cursor.fetchall()}
        columns, values, params = _insert_from_threads(template)
        cursor.execute(
            f"INSERT INTO messaging_message ({columns}) SELECT {values} FROM messaging_thread t WHERE t.id IN ({placeholders})",
            [*params, *thread_ids],
        )
        # The last message of each conversation is the notice just stored at its thread's
        # new last_seq: one statement for every recipient.
        cursor.execute(
            "UPDATE messaging_conversation SET unread_count = unread_count + 1, is_hidden = %s, last_time = %s,"
            " last_message_id = (SELECT m.id FROM messaging_message m JOIN messaging_thread t ON t.id = m.thread_id"
            " WHERE m.thread_id = messaging_conversation.thread_id AND m.seq = t.last_seq)"
            f" WHERE thread_id IN ({placeholders}) RETURNING user_id, unread_count",
            [False, now, *thread_ids],
        )
        unread = dict(cursor.fetchall())
    messages = {}
    for thread_id, pk in by_thread.items():
        user, thread = users[pk], threads[pk]
        thread.last_seq, thread.last_change = numbers[thread_id]
        message = copy.copy(template)
        message.thread, message.seq = thread, thread.last_seq
        message.msg_id = f"{template.msg_id}-{thread_id}"
        message.created_change = message.change = thread.last_change
        messages[pk] = message
        base = serialize.message_base(message, thread, sender=None, to=user.username)
        publish_on_commit(
            "MESSAGE_RECEIVED",
            serialize.delivery(base, message.change),
            [pk],
            origin=origin,
            meta={"counts": {str(pk): unread.get(pk, 0)}},
        )
    return messages


# The columns a notice takes from its thread row (``t``); the others are the template's.
FROM_THREAD = {
    "thread": "t.id",
    "seq": "t.last_seq",
    "created_change": "t.last_change",
    "change": "t.last_change",
}


def _insert_from_threads(template: Message):
    """(columns, SELECT list, params) of one INSERT ... SELECT that stores ``template`` once
    in each selected thread, at the thread's new last_seq, with the ID
    ``<template ID>-<thread id>``. Every other column is the template's value as the
    model's field prepares it, so a field added to Message is stored here too. One
    statement for any number of notices (bulk_create splits rows into batches of 999
    parameters on SQLite)."""
    columns, values, params = [], [], []
    for field in Message._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.name in FROM_THREAD:
            values.append(FROM_THREAD[field.name])
        elif field.name == "msg_id":
            values.append("%s || CAST(t.id AS TEXT)")
            params.append(template.msg_id + "-")
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(getattr(template, field.attname), connection))
    return ", ".join(columns), ", ".join(values), params


def _system_threads(users) -> dict:
    """user pk -> the user's system Thread (id, key, counters), made with its conversation row
    when missing. One query once they exist. Two actions making the same user's first
    notice at once: the second INSERT skips the row the first made (its SELECT after
    the INSERT reads it once that transaction commits)."""
    keys = {system_thread_key(u.pk): u for u in users}
    fields = ("id", "key", "kind", "last_seq", "last_change")
    found = {t.key: t for t in Thread.objects.filter(key__in=keys).only(*fields)}
    missing = [key for key in keys if key not in found]
    if missing:
        Thread.objects.bulk_create([Thread(kind=Thread.Kind.SYSTEM, key=key) for key in missing], ignore_conflicts=True)
        found = {t.key: t for t in Thread.objects.filter(key__in=keys).only(*fields)}
        Conversation.objects.bulk_create(
            [Conversation(user=keys[key], thread=found[key], conversation_id=rules.SYSTEM_CONVERSATION_ID) for key in missing],
            ignore_conflicts=True,
        )
    return {keys[key].pk: thread for key, thread in found.items()}
