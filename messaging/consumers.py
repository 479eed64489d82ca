"""The WebSocket transport at ``/ws/chat/``: one socket per browser tab.

Thin by design: each op parses its arguments, calls one action or query (which
check permissions), and serialises. Frames (docs/PROTOCOL.md):

- request ``{"id": 7, "op": "sendMessage", "args": {...}}``
- reply ``{"id": 7, "ok": true, "data": {...}}`` or ``{"id": 7, "ok": false, "code": 80002, "message": "..."}``
- push ``{"event": "MESSAGE_RECEIVED", "data": [...]}``

Events from the channel layer are viewer-independent; ``chat_event`` fills in the
viewer's fields and keeps the viewer's unread counts (absolute values from the
server) to push TOTAL_UNREAD_MESSAGE_COUNT_UPDATED.
"""

import json
import logging
from concurrent.futures import ThreadPoolExecutor

from channels.consumer import get_handler_name
from channels.db import DatabaseSyncToAsync, database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.db import connection

from messaging import actions, conf, rules, serialize
from messaging.access import access_message
from messaging.actions.message_types import AT_ALL, downloaded_merger_list
from messaging.errors import ChatError, ErrorCode
from messaging.events import collect_events, send_events, thread_group, user_group
from messaging.queries import conversation_list, groups, message_list
from messaging.queries.users import get_user_profiles

log = logging.getLogger(__name__)


def _args(args, name, kind, *, required=True, default=None):
    value = args.get(name, default)
    if value is None and not required:
        return default
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, f"{name} must be a {getattr(kind, '__name__', 'value')}")
    return value


# --- ops: (user, args, origin) -> reply data; run in a database thread ------------------


def op_send_message(user, args, origin):
    message = _args(args, "message", dict)
    stored = actions.send_message(
        user,
        conversation_type=message.get("conversationType"),
        to=message.get("to"),
        msg_type=message.get("type"),
        payload=message.get("payload"),
        msg_id=message.get("ID") or None,
        priority=message.get("priority") or "Normal",
        cloud_custom_data=message.get("cloudCustomData") or "",
        random=message.get("random") or 0,
        client_time=message.get("clientTime") or 0,
        at_user_list=message.get("atUserList") or None,
        forward=message.get("forward"),
        origin=origin,
    )
    thread = stored.thread
    to = actions.message_send.message_to(stored, thread)
    base = serialize.message_base(stored, thread, sender=user, to=to)
    return {"message": serialize.for_viewer(base, user.username)}


def op_download_merger_message(user, args, origin):
    message = _args(args, "message", dict)
    stored = access_message(user, message.get("conversationID"), message.get("ID"))
    download_key = args.get("downloadKey")
    if download_key is not None and not isinstance(download_key, str):
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "downloadKey must be a string")
    return {"messageList": downloaded_merger_list(stored, download_key or None)}


def op_get_message_list(user, args, origin):
    return message_list.get_message_list(
        user,
        args.get("conversationID"),
        next_req_message_id=args.get("nextReqMessageID") or None,
        count=args.get("count"),
    )


def op_set_message_read(user, args, origin):
    actions.mark_read(user, args.get("conversationID"), origin=origin)
    return {}


def op_get_conversation_list(user, args, origin):
    return {"conversationList": conversation_list.get_conversation_list(user), "isSyncCompleted": True}


def op_get_conversation_profile(user, args, origin):
    return {"conversation": conversation_list.get_conversation_profile(user, args.get("conversationID"))}


def op_delete_conversation(user, args, origin):
    return {"conversationID": actions.delete_conversation(user, args.get("conversationID"), origin=origin)}


def op_pin_conversation(user, args, origin):
    cid = actions.pin_conversation(user, args.get("conversationID"), args.get("isPinned"), origin=origin)
    return {"conversationID": cid}


def op_get_total_unread(user, args, origin):
    return {"totalUnreadCount": conversation_list.get_total_unread_count(user)}


def op_create_group(user, args, origin):
    members = _args(args, "memberList", list, required=False, default=[])
    member_ids = [m.get("userID") if isinstance(m, dict) else m for m in members]
    if not all(isinstance(m, str) for m in member_ids):
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "memberList must hold {userID} objects")
    group = actions.create_group(
        user,
        group_type=args.get("type", "Private"),
        name=args.get("name"),
        group_id=args.get("groupID") or None,
        member_user_ids=member_ids,
        introduction=args.get("introduction") or "",
        notification=args.get("notification") or "",
        avatar=args.get("avatar") or "",
        origin=origin,
    )
    return {"group": groups.get_group_profile(user, group.group_id)}


def op_join_group(user, args, origin):
    status, group = actions.join_group(user, args.get("groupID"), origin=origin)
    return {"status": status, "group": groups.get_group_profile(user, group.group_id)}


def op_quit_group(user, args, origin):
    group = actions.quit_group(user, args.get("groupID"), origin=origin)
    return {"groupID": group.group_id}


def op_add_group_member(user, args, origin):
    result = actions.add_members(user, args.get("groupID"), args.get("userIDList"), origin=origin)
    result["group"] = groups.get_group_profile(user, result["group"].group_id)
    return result


def op_delete_group_member(user, args, origin):
    result = actions.delete_members(
        user, args.get("groupID"), args.get("userIDList"), reason=args.get("reason") or "", origin=origin
    )
    result["group"] = groups.get_group_profile(user, result["group"].group_id)
    return result


def op_get_group_list(user, args, origin):
    return {"groupList": groups.get_group_list(user)}


def op_get_group_profile(user, args, origin):
    return {"group": groups.get_group_profile(user, args.get("groupID"))}


def op_get_group_member_list(user, args, origin):
    return groups.get_group_member_list(user, args.get("groupID"), count=args.get("count", 100), offset=args.get("offset", 0))


def op_get_user_profile(user, args, origin):
    ids = _args(args, "userIDList", list)
    return get_user_profiles(ids)


def op_get_my_profile(user, args, origin):
    return serialize.user_profile(user)


OPS = {
    "sendMessage": op_send_message,
    "getMessageList": op_get_message_list,
    "downloadMergerMessage": op_download_merger_message,
    "setMessageRead": op_set_message_read,
    "getConversationList": op_get_conversation_list,
    "getConversationProfile": op_get_conversation_profile,
    "deleteConversation": op_delete_conversation,
    "pinConversation": op_pin_conversation,
    "getTotalUnreadMessageCount": op_get_total_unread,
    "createGroup": op_create_group,
    "joinGroup": op_join_group,
    "quitGroup": op_quit_group,
    "addGroupMember": op_add_group_member,
    "deleteGroupMember": op_delete_group_member,
    "getGroupList": op_get_group_list,
    "getGroupProfile": op_get_group_profile,
    "getGroupMemberList": op_get_group_member_list,
    "getUserProfile": op_get_user_profile,
    "getMyProfile": op_get_my_profile,
}


_db_executor = None


def in_database_thread(func):
    """``func`` as a coroutine that runs in a database thread.

    On PostgreSQL the ops of different sockets run on a small pool of threads
    (``DB_THREADS``): with Channels' default, every ORM call of the process waits
    for one thread, and that thread was the bottleneck under load
    (docs/PERFORMANCE.md). A socket's own ops still run one after another (the
    consumer awaits each before reading the next frame). SQLite takes one writer
    at a time anyway, so there the default single thread stays.
    """
    global _db_executor
    if connection.vendor != "postgresql":
        return database_sync_to_async(func)
    if _db_executor is None:
        _db_executor = ThreadPoolExecutor(max_workers=conf.get("DB_THREADS"), thread_name_prefix="chat-db")
    return DatabaseSyncToAsync(func, thread_sensitive=False, executor=_db_executor)


async def run_op(handler, user, args, origin):
    return await in_database_thread(_run_op)(handler, user, args, origin)


def _run_op(handler, user, args, origin):
    """Run one op in a database thread; return (reply data, committed events)."""
    with collect_events() as events:
        data = handler(user, args, origin)
    return data, events


def load_session_state(user):
    user.refresh_from_db()
    return user.is_active, conversation_list.get_unread_map(user), groups.get_group_thread_ids(user)


def refresh_groups(user):
    return groups.get_group_list(user), groups.get_group_thread_ids(user)


class ChatConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        """Accept, then close with an application code when the socket may not chat.

        Closing before accepting would reach the browser as an HTTP 403 (code 1006),
        and the SDK could not tell "log in again" from "network down". 4001: no
        session (or the account is inactive: Django then sees no user); 4003: the
        account was banned while this socket was open (see ``chat_kick``).
        """
        user = self.scope.get("user")
        await self.accept()
        if user is None or not user.is_authenticated:
            await self.close(code=4001)
            return
        # Follow the user's own group before reading the state, so that a membership
        # change committed meanwhile still reaches this socket as an event.
        self.group_name = user_group(user.pk)
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        active, unread, thread_ids = await in_database_thread(load_session_state)(user)
        if not active:
            await self.close(code=4001)
            return
        self.user = user
        self.unread = unread
        self.unread_total = sum(unread.values())
        self.recent = {}
        self.seen_seq = {}
        self.threads = set()
        await self.join_threads(thread_ids)
        await self.push(
            "hello", {"userID": user.username, "profile": serialize.user_profile(user), "rules": rules.client_rules()}
        )
        await self.push("TOTAL_UNREAD_MESSAGE_COUNT_UPDATED", self.total_unread())

    async def dispatch(self, message):
        """Channels' dispatch, without its ``aclose_old_connections()`` before every
        handler: that is a thread hop (sync_to_async) per pushed event, and on a busy
        process it was the largest cost of a delivery. This consumer touches the
        database only through ``database_sync_to_async``, which closes stale
        connections in its own thread before and after each call."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def disconnect(self, code):
        if hasattr(self, "group_name"):
            await self.channel_layer.group_discard(self.group_name, self.channel_name)
            await self.join_threads(())

    async def chat_kick(self, message):
        """The account was banned: tell the tab and close (it must not reconnect)."""
        await self.push("KICKED_OUT", {"type": message.get("reason", "banned")})
        await self.close(code=4003)

    async def receive(self, text_data=None, bytes_data=None):
        if not hasattr(self, "user"):
            return
        if text_data is None or len(text_data.encode()) > conf.get("MAX_FRAME_BYTES"):
            await self.reply_error(None, ErrorCode.INVALID_PARAMETERS, "frames must be JSON text of at most 64 KB")
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            await self.reply_error(None, ErrorCode.JSON_PARSE_ERROR, "frame is not valid JSON")
            return
        if not isinstance(frame, dict):
            await self.reply_error(None, ErrorCode.JSON_PARSE_ERROR, "frame must be a JSON object")
            return
        request_id = frame.get("id")
        op = frame.get("op")
        if op == "ping":
            await self.send_json({"id": request_id, "ok": True, "data": {}})
            return
        handler = OPS.get(op) if isinstance(op, str) else None
        if handler is None:
            await self.reply_error(request_id, ErrorCode.BAD_API_NAME, f"unknown op {op!r}")
            return
        args = frame.get("args", {})
        if not isinstance(args, dict):
            await self.reply_error(request_id, ErrorCode.INVALID_PARAMETERS, "args must be an object")
            return
        try:
            data, events = await run_op(handler, self.user, args, self.channel_name)
        except ChatError as error:
            await self.reply_error(request_id, error.code, error.message)
            return
        except Exception:
            log.exception("op %s failed", op)
            await self.reply_error(request_id, ErrorCode.INTERNAL_ERROR, "internal error")
            return
        await self.send_json({"id": request_id, "ok": True, "data": data})
        if events:
            await send_events(events)

    # --- pushes from the channel layer -----------------------------------------------

    async def chat_event(self, message):
        event, data, meta = message["event"], message["data"], message.get("meta") or {}
        recipients = meta.get("recipients")
        if recipients is not None and str(self.user.pk) not in recipients:
            return  # a thread-group send reached a socket whose user is no longer a member
        if meta.get("refresh") == "groups":
            group_list, thread_ids = await in_database_thread(refresh_groups)(self.user)
            joined = set(thread_ids) - self.threads
            await self.join_threads(thread_ids)
            await self.push("GROUP_LIST_UPDATED", group_list)
            await self.catch_up(joined)
            return
        if event == "MESSAGE_RECEIVED":
            await self.deliver_message(message, data, meta)
            return
        await self.push(event, data)
        total_changed = self.note_unread(meta)
        if total_changed:
            await self.push("TOTAL_UNREAD_MESSAGE_COUNT_UPDATED", self.total_unread())

    async def deliver_message(self, message, data, meta):
        """One frame per delivery: the message, the conversation's patch and, when it
        changed, the total unread count (docs/PROTOCOL.md, MESSAGE_RECEIVED).

        ``data`` is ``serialize.delivery()``: the JSON is already encoded, once for
        every receiver and once for the sender's tabs. The sending socket gets only
        the conversation patch.
        """
        key = (data["conversationType"], data["to"], data["sequence"], data["from"])
        if key in self.recent:
            return  # delivered through both the thread group and the user group
        self.recent[key] = None
        if len(self.recent) > 512:
            self.recent.pop(next(iter(self.recent)))
        if "thread" in meta:
            self.seen_seq[meta["thread"]] = max(self.seen_seq.get(meta["thread"], 0), data["sequence"])
        username = self.user.username
        mine = meta.get("counts", {}).get(str(self.user.pk))
        own = data["from"] == username
        if data["conversationType"] == "GROUP":
            conversation_id = "GROUP" + data["to"]
        else:
            conversation_id = "C2C" + (data["to"] if own else data["from"])
        total_changed = mine is not None and self.set_unread(conversation_id, mine)
        patch = [
            '{"conversationID":',
            serialize.dumps(conversation_id),
            ',"type":"',
            data["conversationType"],
            '","lastMessage":',
        ]
        patch.append(data["last_json_out"] if own else data["last_json_in"])
        if mine is not None:
            patch.append(f',"unreadCount":{int(mine)}')
        at_type = self.at_type(data)
        if at_type:
            info = {"messageID": data["ID"], "messageSequence": data["sequence"], "atType": at_type, "groupID": data["to"]}
            patch.append(',"groupAtInfoAdded":' + serialize.dumps(info))
        patch.append("}")
        patch = "".join(patch)
        if message.get("origin") == self.channel_name:
            await self.send(text_data='{"event":"CONVERSATION_LIST_UPDATED","data":[' + patch + "]}")
            if total_changed:
                await self.push("TOTAL_UNREAD_MESSAGE_COUNT_UPDATED", self.total_unread())
            return
        total = f',"totalUnreadCount":{self.total_unread()}' if total_changed else ""
        message_json = data["json_out"] if own else data["json_in"]
        await self.send(
            text_data='{"event":"MESSAGE_RECEIVED","data":[' + message_json + '],"conversation":' + patch + total + "}"
        )

    async def catch_up(self, thread_ids):
        """Deliver what was sent to newly joined threads before this socket joined
        their channel groups: messages after the join tip it received directly."""
        for thread_id in thread_ids:
            after = self.seen_seq.get(thread_id)
            if after is None:
                continue
            missed = await in_database_thread(message_list.get_group_messages_after)(self.user, thread_id, after)
            for base in missed:
                await self.deliver_message({"origin": None}, serialize.delivery(base), {"thread": thread_id})

    def note_unread(self, meta):
        """Take this user's absolute unread count from ``meta``; whether the total changed."""
        mine = meta.get("unread", {}).get(str(self.user.pk))
        return bool(mine) and self.set_unread(*mine)

    def set_unread(self, conversation_id, count):
        """Record an absolute unread count; whether the total changed."""
        previous = self.unread.pop(conversation_id, 0)
        if count:
            self.unread[conversation_id] = count
        self.unread_total += count - previous
        return count != previous

    async def join_threads(self, thread_ids):
        """Follow the channel-layer groups of exactly these group threads."""
        thread_ids = set(thread_ids)
        for thread_id in thread_ids - self.threads:
            await self.channel_layer.group_add(thread_group(thread_id), self.channel_name)
        for thread_id in self.threads - thread_ids:
            await self.channel_layer.group_discard(thread_group(thread_id), self.channel_name)
        self.threads = thread_ids

    def at_type(self, message):
        """TIM.TYPES.CONV_AT_ME (1), CONV_AT_ALL (2), CONV_AT_ALL_AT_ME (3), or 0."""
        mentioned = message.get("atUserList") or []
        if not mentioned or message["from"] == self.user.username:
            return 0
        return (1 if self.user.username in mentioned else 0) + (2 if AT_ALL in mentioned else 0)

    def total_unread(self):
        return self.unread_total

    # --- frames ------------------------------------------------------------------

    async def push(self, event, data):
        await self.send_json({"event": event, "data": data})

    async def reply_error(self, request_id, code, text):
        await self.send_json({"id": request_id, "ok": False, "code": int(code), "message": text})

    async def send_json(self, content):
        await self.send(text_data=json.dumps(content, ensure_ascii=False, separators=(",", ":")))
