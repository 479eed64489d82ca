"""The WebSocket transport at ``/ws/chat/``: one socket per browser tab.

Thin by design: it authenticates the socket, decodes each frame and validates its
``args`` against the op's struct (messaging/schemas.py), dispatches to the op's
handler (one action or query, which checks permissions), replies, and relays the
committed events. Every frame it sends is built by ``serialize``. Frames
(docs/PROTOCOL.md):

- request ``{"id": 7, "op": "sendMessage", "args": {...}}``
- reply ``{"id": 7, "ok": true, "data": {...}}`` or ``{"id": 7, "ok": false, "code": 80002, "message": "..."}``
- push ``{"event": "MESSAGE_RECEIVED", "data": [...]}``

Events from the channel layer are viewer-independent; ``chat_event`` fills in the
viewer's fields and keeps the viewer's unread counts (absolute values from the
server) to push TOTAL_UNREAD_MESSAGE_COUNT_UPDATED.
"""

import asyncio
import functools
import logging
import weakref
from concurrent.futures import ThreadPoolExecutor

import msgspec
from autobahn.exception import Disconnected
from channels.consumer import get_handler_name
from channels.db import DatabaseSyncToAsync, database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import close_old_connections

from messaging import actions, conf, presence, ratelimit, rules, schemas, serialize
from messaging.access import access_message
from messaging.actions import friends as friend_actions
from messaging.actions.message_types import downloaded_merger_list
from messaging.channel_layer import RESYNC, PubSubChannelLayer
from messaging.errors import ChatError, ErrorCode
from messaging.events import (
    collect_events,
    count_for,
    is_addressed_to,
    presence_group,
    send_events,
    session_group,
    thread_group,
    user_group,
)
from messaging.queries import (
    conversation_groups,
    conversation_list,
    directory,
    friends,
    group_applications,
    groups,
    message_list,
    message_search,
    reactions,
    receipts,
    session,
    sync,
)
from messaging.queries import presence as presence_queries
from messaging.queries.users import get_my_profile, get_user_profiles
from messaging.receipt_relay import ReceiptRelay

log = logging.getLogger(__name__)

# Events were lost on the way: reconnect and sync. (1012 "service restart" would say
# it, but Daphne closes only with 1000 or an application code, 3000–4999.)
RESYNC_CLOSE_CODE = 4012
# The user has too many sockets open (MAX_SOCKETS_PER_USER): do not reconnect.
TOO_MANY_SOCKETS_CLOSE_CODE = 4029


# --- ops: (user, args, origin) -> reply data; run in a database thread ------------------
# ``args`` is the op's struct from messaging/schemas.py, already validated.


def op_send_message(user, args: schemas.SendMessage, origin):
    message = args.message
    sent = actions.send_message(
        user,
        conversation_type=message.conversationType,
        to=message.to,
        msg_type=message.type,
        payload=message.payload,
        msg_id=message.ID,
        priority=message.priority,
        cloud_custom_data=message.cloudCustomData,
        random=message.random,
        client_time=message.clientTime,
        at_user_list=message.atUserList,
        forward={"ID": message.forward.ID, "conversationID": message.forward.conversationID} if message.forward else None,
        offline_push_info=_as_dict(args.options.offlinePushInfo),
        message_control_info=_as_dict(args.options.messageControlInfo),
        receiver_list=message.receiverList,
        online_user_only=args.options.onlineUserOnly,
        need_read_receipt=message.needReadReceipt,
        origin=origin,
    )
    return {"message": serialize.for_viewer(sent.data, user.username)}


def _as_dict(options):
    return msgspec.structs.asdict(options) if options is not None else None


def op_download_merger_message(user, args: schemas.DownloadMergerMessage, origin):
    stored = access_message(user, args.message.conversationID, args.message.ID)
    return {"messageList": downloaded_merger_list(stored, args.downloadKey or None)}


def op_revoke_message(user, args: schemas.RevokeMessage, origin):
    revoked = actions.revoke_message(user, args.message.conversationID, args.message.ID, origin=origin)
    return {"message": serialize.for_viewer(revoked.data, user.username, peer_read_seq=revoked.peer_read_seq)}


def op_modify_message(user, args: schemas.ModifyMessage, origin):
    edit = args.message
    modified = actions.modify_message(
        user,
        edit.conversationID,
        edit.ID,
        version=edit.version,
        payload=edit.payload,
        cloud_custom_data=edit.cloudCustomData,
        origin=origin,
    )
    return {"message": serialize.for_viewer(modified.data, user.username, peer_read_seq=modified.peer_read_seq)}


def op_report_message(user, args: schemas.ReportMessage, origin):
    filed = actions.report_message(user, args.message.conversationID, args.message.ID, args.reason, args.description)
    return {"report": serialize.message_report(filed.report, args.message.conversationID), "isUpdate": filed.is_update}


def op_send_message_read_receipt(user, args: schemas.SendMessageReadReceipt, origin):
    actions.send_message_read_receipt(user, args.messageList, origin=origin)
    return {}


def op_get_message_read_receipt_list(user, args: schemas.GetMessageReadReceiptList, origin):
    return receipts.get_message_read_receipt_list(user, args.messageList)


def op_get_group_message_read_member_list(user, args: schemas.GetGroupMessageReadMemberList, origin):
    return receipts.get_group_message_read_member_list(
        user, args.message, member_filter=args.filter, cursor=args.cursor, count=args.count
    )


def op_get_message_list(user, args: schemas.GetMessageList, origin):
    return message_list.get_message_list(
        user, args.conversationID, next_req_message_id=args.nextReqMessageID or None, count=args.count
    )


def op_get_message_list_hopping(user, args: schemas.GetMessageListHopping, origin):
    return message_list.get_message_list_hopping(
        user, args.conversationID, sequence=args.sequence, time=args.time, count=args.count, direction=args.direction
    )


def op_find_message(user, args: schemas.FindMessage, origin):
    return message_list.find_message(user, args.conversationID, args.messageID)


def op_set_message_read(user, args: schemas.ConversationArgs, origin):
    actions.mark_read(user, args.conversationID, origin=origin)
    return {}


def op_delete_message(user, args: schemas.DeleteMessage, origin):
    deletion = actions.delete_messages(user, args.messageList, origin=origin)
    return {"conversationID": deletion.conversation_id, "messageIDList": deletion.message_ids}


def op_clear_history_message(user, args: schemas.ConversationArgs, origin):
    return {"conversationID": actions.clear_history(user, args.conversationID, origin=origin).conversation_id}


def op_set_all_message_read(user, args: schemas.SetAllMessageRead, origin):
    return {"conversationIDList": actions.set_all_message_read(user, args.scope, origin=origin)}


def op_get_conversation_list(user, args, origin):
    return {"conversationList": conversation_list.get_conversation_list(user), "isSyncCompleted": True}


def op_get_conversation_profile(user, args: schemas.ConversationArgs, origin):
    return {"conversation": conversation_list.get_conversation_profile(user, args.conversationID)}


def op_delete_conversation(user, args: schemas.ConversationArgs, origin):
    return {"conversationID": actions.delete_conversation(user, args.conversationID, origin=origin)}


def op_pin_conversation(user, args: schemas.PinConversation, origin):
    return {"conversationID": actions.pin_conversation(user, args.conversationID, args.isPinned, origin=origin)}


def op_set_conversation_draft(user, args: schemas.SetConversationDraft, origin):
    return {"conversationID": actions.set_conversation_draft(user, args.conversationID, args.draftText, origin=origin)}


def op_mark_conversation(user, args: schemas.MarkConversation, origin):
    return actions.mark_conversation(user, list(args.conversationIDList), args.markType, args.enableMark, origin=origin)


def op_set_message_remind_type(user, args: schemas.SetMessageRemindType, origin):
    user_ids = list(args.userIDList) if args.userIDList is not None else None
    return actions.set_message_remind_type(
        user, user_ids=user_ids, group_id=args.groupID, remind_type=args.messageRemindType, origin=origin
    )


def op_create_conversation_group(user, args: schemas.CreateConversationGroup, origin):
    return actions.create_conversation_group(user, args.groupName, list(args.conversationIDList), origin=origin)


def op_delete_conversation_group(user, args: schemas.ConversationGroupArgs, origin):
    return {"groupName": actions.delete_conversation_group(user, args.groupName, origin=origin)}


def op_rename_conversation_group(user, args: schemas.RenameConversationGroup, origin):
    return {"groupName": actions.rename_conversation_group(user, args.oldName, args.newName, origin=origin)}


def op_add_conversations_to_group(user, args: schemas.ConversationGroupMembers, origin):
    return actions.add_conversations_to_group(user, args.groupName, list(args.conversationIDList), origin=origin)


def op_delete_conversations_from_group(user, args: schemas.ConversationGroupMembers, origin):
    return actions.delete_conversations_from_group(user, args.groupName, list(args.conversationIDList), origin=origin)


def op_get_conversation_group_list(user, args, origin):
    return {"groupList": conversation_groups.get_conversation_group_list(user)}


def op_get_total_unread(user, args, origin):
    return {"totalUnreadCount": conversation_list.get_total_unread_count(user)}


def op_create_group(user, args: schemas.CreateGroup, origin):
    group = actions.create_group(
        user,
        group_type=args.type,
        name=args.name,
        group_id=args.groupID or None,
        member_user_ids=args.member_ids(),
        introduction=args.introduction,
        notification=args.notification,
        avatar=args.avatar,
        join_option=args.joinOption,
        origin=origin,
    )
    return {"group": groups.get_group_profile(user, group.group_id)}


def op_join_group(user, args: schemas.JoinGroup, origin):
    status, group = actions.join_group(user, args.groupID, apply_message=args.applyMessage, origin=origin)
    return {"status": status, "group": groups.get_group_profile(user, group.group_id)}


def op_quit_group(user, args: schemas.GroupArgs, origin):
    return {"groupID": actions.quit_group(user, args.groupID, origin=origin).group_id}


def op_add_group_member(user, args: schemas.GroupMembersArgs, origin):
    result = actions.add_members(user, args.groupID, list(args.userIDList), origin=origin)
    result["group"] = groups.get_group_profile(user, result["group"].group_id)
    return result


def op_delete_group_member(user, args: schemas.DeleteGroupMember, origin):
    result = actions.delete_members(user, args.groupID, list(args.userIDList), reason=args.reason, origin=origin)
    result["group"] = groups.get_group_profile(user, result["group"].group_id)
    return result


def op_get_group_list(user, args, origin):
    return {"groupList": groups.get_group_list(user)}


def op_get_group_profile(user, args: schemas.GroupArgs, origin):
    return {"group": groups.get_group_profile(user, args.groupID)}


def op_get_group_member_list(user, args: schemas.GetGroupMemberList, origin):
    return groups.get_group_member_list(user, args.groupID, count=args.count, offset=args.offset)


def op_update_group_profile(user, args: schemas.UpdateGroupProfile, origin):
    fields = {
        "name": args.name,
        "introduction": args.introduction,
        "notification": args.notification,
        "avatar": args.avatar,
        "join_option": args.joinOption,
        "mute_all": args.muteAllMembers,
        "custom_fields": [{"key": f.key, "value": f.value} for f in args.groupCustomField] if args.groupCustomField else None,
    }
    group = actions.update_group_profile(user, args.groupID, **{k: v for k, v in fields.items() if v is not None})
    return {"group": groups.get_group_profile(user, group.group_id)}


def op_set_group_member_role(user, args: schemas.SetGroupMemberRole, origin):
    member = actions.set_member_role(user, args.groupID, args.userID, args.role)
    return _group_and_member(user, args.groupID, member)


def op_set_group_member_mute_time(user, args: schemas.SetGroupMemberMuteTime, origin):
    member = actions.mute_member(user, args.groupID, args.userID, args.muteTime)
    return _group_and_member(user, args.groupID, member)


def op_set_group_member_name_card(user, args: schemas.SetGroupMemberNameCard, origin):
    member = actions.set_member_name_card(user, args.groupID, args.userID, args.nameCard)
    return _group_and_member(user, args.groupID, member)


def op_set_group_member_custom_field(user, args: schemas.SetGroupMemberCustomField, origin):
    fields = [{"key": f.key, "value": f.value} for f in args.memberCustomField]
    member = actions.set_member_custom_fields(user, args.groupID, args.userID, fields)
    return _group_and_member(user, args.groupID, member)


def op_get_group_member_profile(user, args: schemas.GetGroupMemberProfile, origin):
    return groups.get_group_member_profile(user, args.groupID, list(args.userIDList))


def op_search_group_by_id(user, args: schemas.GroupArgs, origin):
    return {"group": groups.search_group_by_id(user, args.groupID)}


def op_change_group_owner(user, args: schemas.ChangeGroupOwner, origin):
    group = actions.change_group_owner(user, args.groupID, args.newOwnerID)
    return {"group": groups.get_group_profile(user, group.group_id)}


def op_dismiss_group(user, args: schemas.GroupArgs, origin):
    return {"groupID": actions.dismiss_group(user, args.groupID).group_id}


def _group_and_member(user, group_id, member):
    """The SDK's reply to a member change: ``{group, member}``."""
    return {"group": groups.get_group_profile(user, group_id), "member": serialize.member(member, member.user)}


def op_get_user_profile(user, args: schemas.GetUserProfile, origin):
    return get_user_profiles(list(args.userIDList))


def op_get_my_profile(user, args, origin):
    return get_my_profile(user)


def op_update_my_profile(user, args: schemas.UpdateMyProfile, origin):
    fields = args.model_fields()
    if not fields:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "nothing to change: give at least one profile field")
    return serialize.profile(actions.update_user_profile(user, **fields))


def op_search_cloud_users(user, args: schemas.SearchCloudUsers, origin):
    return directory.search_users(
        user,
        list(args.keywordList),
        match=args.keywordListMatchType,
        gender=args.gender,
        min_birthday=args.miniBirthday,
        max_birthday=args.maxBirthday,
        cursor=args.cursor,
        count=args.count,
    )


def op_search_cloud_messages(user, args: schemas.SearchCloudMessages, origin):
    return message_search.search_cloud_messages(
        user,
        list(args.keywordList),
        match=args.keywordListMatchType,
        senders=list(args.senderUserIDList),
        types=list(args.messageTypeList),
        conversation_id=args.conversationID or None,
        time_position=args.timePosition,
        time_period=args.timePeriod,
        cursor=args.cursor,
        count=args.count,
    )


def op_get_public_group_list(user, args: schemas.GetPublicGroupList, origin):
    return directory.get_public_group_list(user, cursor=args.cursor, count=args.count)


def op_sync(user, args: schemas.Sync, origin):
    return sync.sync_for_socket(user, dict(args.cursors))


# --- the relationship chain (actions/friends.py, queries/friends.py) -------------------------


def op_get_friend_list(user, args, origin):
    return friends.get_friend_list(user.pk)


def op_add_friend(user, args: schemas.AddFriend, origin):
    return friend_actions.add_friend(
        user,
        args.to,
        source=args.source,
        wording=args.wording,
        remark=args.remark,
        add_type=args.type,
        group_name=args.groupName,
    )


def op_delete_friend(user, args: schemas.DeleteFriend, origin):
    return friend_actions.delete_friend(user, list(args.userIDList), args.type)


def op_get_friend_profile(user, args: schemas.GetFriendProfile, origin):
    return friends.get_friend_profile(user.pk, list(args.userIDList))


def op_update_friend(user, args: schemas.UpdateFriend, origin):
    return friend_actions.update_friend(user, args.userID, remark=args.remark)


def op_check_friend(user, args: schemas.CheckFriend, origin):
    return friends.check_friend(user.pk, list(args.userIDList), args.type)


def op_get_friend_application_list(user, args, origin):
    return friends.get_friend_application_list(user.pk)


def op_accept_friend_application(user, args: schemas.AcceptFriendApplication, origin):
    return friend_actions.accept_friend_application(user, args.userID, remark=args.remark, response=args.type)


def op_refuse_friend_application(user, args: schemas.FriendApplicationArgs, origin):
    return friend_actions.refuse_friend_application(user, args.userID)


def op_delete_friend_application(user, args: schemas.DeleteFriendApplication, origin):
    return friend_actions.delete_friend_application(user, args.userID, args.type)


def op_set_friend_application_read(user, args, origin):
    friend_actions.set_friend_application_read(user)
    return {}


def op_add_to_blacklist(user, args: schemas.FriendUserIDs, origin):
    return friend_actions.add_to_blacklist(user, list(args.userIDList))


def op_remove_from_blacklist(user, args: schemas.FriendUserIDs, origin):
    return friend_actions.remove_from_blacklist(user, list(args.userIDList))


def op_get_blacklist(user, args, origin):
    return friends.get_blacklist(user.pk)


# --- presence (docs/PROTOCOL.md, "Presence") ------------------------------------------------


def op_get_user_status(user, args: schemas.GetUserStatus, origin):
    return presence_queries.get_user_status(user, list(args.userIDList))


def op_set_self_status(user, args: schemas.SetSelfStatus, origin):
    return actions.set_self_status(user, args.customStatus)


def op_subscribe_user_status(user, args: schemas.SubscribeUserStatus, origin):
    return presence_queries.subscription(user, list(args.userIDList))  # applied by the consumer


def op_unsubscribe_user_status(user, args: schemas.UnsubscribeUserStatus, origin):
    return presence_queries.unsubscription(user, list(args.userIDList))  # applied by the consumer


def op_get_group_online_member_count(user, args: schemas.GroupArgs, origin):
    return presence_queries.get_group_online_member_count(user, args.groupID)


def op_handle_group_application(user, args: schemas.HandleGroupApplication, origin):
    group = actions.handle_group_application(
        user, args.message.ID, args.handleAction, handle_message=args.handleMessage, origin=origin
    )
    return {"group": groups.get_group_profile(user, group.group_id)}


def op_add_message_reaction(user, args: schemas.MessageReactionArgs, origin):
    ref = args.message
    return actions.add_message_reaction(user, ref.conversationID, ref.ID, args.reactionID, origin=origin)


def op_remove_message_reaction(user, args: schemas.MessageReactionArgs, origin):
    ref = args.message
    return actions.remove_message_reaction(user, ref.conversationID, ref.ID, args.reactionID, origin=origin)


def op_get_message_reactions(user, args: schemas.GetMessageReactions, origin):
    return reactions.get_message_reactions(user, args.messageList, args.maxUserCountPerReaction)


def op_get_all_user_list_of_message_reaction(user, args: schemas.GetAllUserListOfMessageReaction, origin):
    return reactions.get_all_user_list_of_message_reaction(user, args.message, args.reactionID, args.nextSeq, args.count)


def op_get_group_application_list(user, args, origin):
    return group_applications.get_group_application_list(user)


HANDLERS = {
    "sendMessage": op_send_message,
    "getMessageList": op_get_message_list,
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
    "downloadMergerMessage": op_download_merger_message,
    "revokeMessage": op_revoke_message,
    "sendMessageReadReceipt": op_send_message_read_receipt,
    "getMessageReadReceiptList": op_get_message_read_receipt_list,
    "getGroupMessageReadMemberList": op_get_group_message_read_member_list,
    "sync": op_sync,
    "updateGroupProfile": op_update_group_profile,
    "setGroupMemberRole": op_set_group_member_role,
    "setGroupMemberMuteTime": op_set_group_member_mute_time,
    "changeGroupOwner": op_change_group_owner,
    "dismissGroup": op_dismiss_group,
    "setGroupMemberNameCard": op_set_group_member_name_card,
    "setGroupMemberCustomField": op_set_group_member_custom_field,
    "getGroupMemberProfile": op_get_group_member_profile,
    "searchGroupByID": op_search_group_by_id,
    # profiles and the directory
    "updateMyProfile": op_update_my_profile,
    "searchCloudUsers": op_search_cloud_users,
    "getPublicGroupList": op_get_public_group_list,
    "searchCloudMessages": op_search_cloud_messages,
    "getFriendList": op_get_friend_list,
    "addFriend": op_add_friend,
    "deleteFriend": op_delete_friend,
    "getFriendProfile": op_get_friend_profile,
    "updateFriend": op_update_friend,
    "checkFriend": op_check_friend,
    "getFriendApplicationList": op_get_friend_application_list,
    "acceptFriendApplication": op_accept_friend_application,
    "refuseFriendApplication": op_refuse_friend_application,
    "deleteFriendApplication": op_delete_friend_application,
    "setFriendApplicationRead": op_set_friend_application_read,
    "addToBlacklist": op_add_to_blacklist,
    "removeFromBlacklist": op_remove_from_blacklist,
    "getBlacklist": op_get_blacklist,
    "getUserStatus": op_get_user_status,
    "setSelfStatus": op_set_self_status,
    "subscribeUserStatus": op_subscribe_user_status,
    "unsubscribeUserStatus": op_unsubscribe_user_status,
    "getGroupOnlineMemberCount": op_get_group_online_member_count,
    "handleGroupApplication": op_handle_group_application,
    "getGroupApplicationList": op_get_group_application_list,
    "reportMessage": op_report_message,
    "deleteMessage": op_delete_message,
    "clearHistoryMessage": op_clear_history_message,
    "setAllMessageRead": op_set_all_message_read,
    "setConversationDraft": op_set_conversation_draft,
    "markConversation": op_mark_conversation,
    "setMessageRemindType": op_set_message_remind_type,
    "createConversationGroup": op_create_conversation_group,
    "deleteConversationGroup": op_delete_conversation_group,
    "renameConversationGroup": op_rename_conversation_group,
    "addConversationsToGroup": op_add_conversations_to_group,
    "deleteConversationsFromGroup": op_delete_conversations_from_group,
    "getConversationGroupList": op_get_conversation_group_list,
    "modifyMessage": op_modify_message,
    "getMessageListHopping": op_get_message_list_hopping,
    "findMessage": op_find_message,
    "addMessageReaction": op_add_message_reaction,
    "removeMessageReaction": op_remove_message_reaction,
    "getMessageReactions": op_get_message_reactions,
    "getAllUserListOfMessageReaction": op_get_all_user_list_of_message_reaction,
}
assert HANDLERS.keys() == schemas.OPS.keys(), "every op has a schema and a handler"


_db_executor = None


def uses_postgresql():
    """Whether the default database is PostgreSQL, read from the settings: ``connection.vendor``
    on the event loop made a ``DatabaseWrapper`` per consumer task (Django keeps one per
    async context), about 3 KiB held by every idle socket (docs/PERFORMANCE.md, issue #10)."""
    return "postgresql" in settings.DATABASES["default"]["ENGINE"]


def in_database_thread(func):
    """``func`` as a coroutine that runs in a database thread.

    On PostgreSQL the ops of different sockets run on a small pool of threads
    (``DB_THREADS``): with Channels' default, every ORM call of the process waits
    for one thread, and that thread was the bottleneck under load
    (docs/PERFORMANCE.md). A socket's own ops still run one after another (the
    consumer awaits each before reading the next frame). SQLite takes one writer
    at a time anyway, so there the default single thread stays.
    """
    if not uses_postgresql():
        return database_sync_to_async(func)
    return DatabaseSyncToAsync(func, thread_sensitive=False, executor=db_executor())


def db_executor() -> ThreadPoolExecutor:
    """The pool of database threads (PostgreSQL), made on first use."""
    global _db_executor
    if _db_executor is None:
        _db_executor = ThreadPoolExecutor(max_workers=conf.get("DB_THREADS"), thread_name_prefix="chat-db")
    return _db_executor


# The reads that a reconnecting client makes once and that cost the most (the state at
# connect, the catch-up, the lists). In a reconnect storm hundreds of sockets ask them at
# once; queued ahead of everything in the database threads, they held each send of the
# process's other sockets for seconds (bench/scale.py's storm). At most DB_THREADS - 1
# of them run at a time, so one database thread is always free for the other ops.
CATCH_UP_OPS = frozenset({"sync", "getConversationList", "getGroupList"})
_catch_up_slots = weakref.WeakKeyDictionary()  # event loop -> its semaphore (tests run several loops)


def catch_up_slots() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    slots = _catch_up_slots.get(loop)
    if slots is None:
        slots = _catch_up_slots[loop] = asyncio.Semaphore(max(1, conf.get("DB_THREADS") - 1))
    return slots


async def run_op(handler, user, args, origin, op=None, client=None):
    if op in CATCH_UP_OPS:
        async with catch_up_slots():
            return await in_database_thread(_run_op)(handler, user, args, origin, op, client)
    if not uses_postgresql():
        return await in_database_thread(_run_op)(handler, user, args, origin, op, client)
    call = functools.partial(_run_op_in_pool, handler, user, args, origin, op, client)
    return await asyncio.get_running_loop().run_in_executor(db_executor(), call)


def _run_op_in_pool(*args):
    """``_run_op`` in a thread of the pool, as ``DatabaseSyncToAsync`` runs it (stale
    connections closed before and after) without asgiref's machinery around the call: no
    copied context, no shielded future, no thread-sensitivity bookkeeping. An op needs
    none of it (its events are collected, not sent from the thread; ``acting_as`` sets
    its context variable in the thread), and the hop cost half as much CPU (172 -> 88 µs
    a call, docs/PERFORMANCE.md, the ninth sitting): a send is one hop."""
    close_old_connections()
    try:
        return _run_op(*args)
    finally:
        close_old_connections()


def _run_op(handler, user, args, origin, op=None, client=None):
    """Run one op in a database thread; return (reply data, committed events). With a
    ``client`` (the socket's user and address), the op is counted against its budgets
    (messaging/ratelimit.py): the expensive ops here, the sends in ``send_message``."""
    ratelimit.check_op(client, op)
    with collect_events() as events, ratelimit.acting_as(client):
        data = handler(user, args, origin)
    return data, events


class Inbox:
    """A socket's channel in the pub/sub layer (``PubSubChannelLayer.new_inbox``): what the
    layer puts here goes to ``take_now`` first, then, if not taken, to the socket's queue
    (the one its server puts its frames in)."""

    __slots__ = ("queue", "take_now")

    def __init__(self, queue: asyncio.Queue, take_now):
        self.queue, self.take_now = queue, take_now

    def put_nowait(self, data):
        if not self.take_now(data):
            self.queue.put_nowait(data)


def direct_writer(send):
    """A function that writes a text frame to the socket at once, doing what ``await
    send({"type": "websocket.send", "text": ...})`` does, for the servers whose ``send``
    does it without waiting: Daphne's (``Server.handle_reply`` bound to the socket's
    protocol: it drops the frame for a closed connection and hands it to the protocol)
    and a queue's ``put`` (Channels' test communicator). None for any other server."""
    if isinstance(send, functools.partial) and len(send.args) == 1 and not send.keywords:
        server, protocol = getattr(send.func, "__self__", None), send.args[0]
        if getattr(send.func, "__name__", "") == "handle_reply" and type(server).__module__ == "daphne.server":

            def write(text):
                connection = server.connections.get(protocol)
                if connection is None or connection.get("disconnected"):
                    return
                try:
                    protocol.handle_reply({"type": "websocket.send", "text": text})
                except Disconnected:  # as ``ChatConsumer.send``
                    pass

            return write
    queue = getattr(send, "__self__", None)
    if isinstance(queue, asyncio.Queue) and send == queue.put and queue.maxsize <= 0:
        return lambda text: queue.put_nowait({"type": "websocket.send", "text": text})
    return None


class ChatConsumer(AsyncWebsocketConsumer):
    ended = False  # closed by the server (``end``)

    async def __call__(self, scope, receive, send):
        """Read the socket's frames and the channel layer's messages from one queue.

        Channels' ``AsyncConsumer`` waits on two queues (the server's and the layer's)
        with two tasks, renewed after every message (``await_many_dispatch``): every idle
        socket held both tasks and a second queue, and every delivery paid for a task and
        an ``asyncio.wait``. When the server hands ``receive`` as an ``asyncio.Queue``'s
        ``get`` (Daphne does, and Channels' test communicator) and the layer is the
        product's pub/sub layer, the layer puts this socket's messages into that same
        queue (``PubSubChannelLayer.new_inbox``): frames arrive as ASGI dicts, layer
        messages as the published bytes, decoded here (once per process for a group
        send). One queue keeps the order in which both arrived. Anything else
        (the in-memory layer of ``make run``, another server) takes Channels' way.
        """
        inbox = getattr(receive, "__self__", None)
        layer = get_channel_layer(self.channel_layer_alias)
        if not (isinstance(inbox, asyncio.Queue) and receive == inbox.get and isinstance(layer, PubSubChannelLayer)):
            return await super().__call__(scope, receive, send)
        self.scope, self.channel_layer, self.base_send = scope, layer, send
        self.inbox, self.write_now = inbox, direct_writer(send)
        self.channel_name = await layer.new_inbox(Inbox(inbox, self.take_now))
        try:
            while True:
                self.idle = True
                message = await inbox.get()
                self.idle = False
                await self.dispatch(layer.deserialize(message) if type(message) is bytes else message)
        except StopConsumer:
            pass
        finally:
            self.idle = False
            await layer.close_inbox(self.channel_name)

    idle = False  # waiting for its next frame or event, with none queued (``take_now``)
    write_now = None

    def take_now(self, data) -> bool:
        """Deliver a new message from the layer at once, in the layer's own call, when this
        socket is idle: it waits for its queue, which is empty, so nothing is before the
        message and handling it now is handling it next. A live room's message reaches
        thousands of sockets of the process; through the queue each one cost a wake-up
        of its task (a future, a loop turn, ``Queue.get``) and an awaited send, a fifth of
        the process's time (docs/PERFORMANCE.md, "the live room under 1 s"). The frames are the ones
        ``deliver_message`` sends, written as Daphne's ``send`` writes them
        (``direct_writer``). Anything else, or a busy socket, is queued (False). A
        message that fails here closes the socket for a resync (4012), as a lost event
        does: the client reconnects and syncs."""
        if not self.idle or self.inbox.qsize() or self.write_now is None:
            return False
        try:
            message = self.channel_layer.deserialize(data)
            meta = message.get("meta") or {}
            if message.get("type") != "chat.event" or message.get("event") != "MESSAGE_RECEIVED" or meta.get("online"):
                return False
            if meta.get("refresh") == "groups":
                return False
            if self.ended or getattr(self, "user", None) is None or not is_addressed_to(meta, self.user.pk):
                return True  # as ``dispatch`` and ``chat_event`` drop it
            for frame in self.message_frames(message, message["data"], meta):
                self.write_now(frame)
        except Exception:
            log.exception("a message for %s failed on delivery; closing the socket for a resync", self.channel_name)
            self.inbox.put_nowait(RESYNC)
        return True

    async def connect(self):
        """Accept, then close with an application code when the socket may not chat.

        Closing before accepting would reach the browser as an HTTP 403 (code 1006),
        and the SDK could not tell "log in again" from "network down". 4001: no
        session (or the account is inactive: Django then sees no user); 4003: the
        account was banned while this socket was open (see ``chat_kick``); 4029: the
        user has MAX_SOCKETS_PER_USER sockets open already (``refuse_extra_socket``).
        """
        user = self.scope.get("user")
        await self.accept()
        if user is None or not user.is_authenticated:
            await self.end(4001)
            return
        # Follow the user's own group before reading the state, so that a membership
        # change committed meanwhile still reaches this socket as an event.
        self.group_name = user_group(user.pk)
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        session_key = getattr(self.scope.get("session"), "session_key", None)
        if session_key:
            # Logging out closes this socket too (actions.end_session), on any process.
            self.session_group = session_group(session_key)
            await self.channel_layer.group_add(self.session_group, self.channel_name)
        async with catch_up_slots():
            active, (unread, muted), thread_ids, client_rules = await in_database_thread(session.load_session_state)(user)
        if not active:
            await self.end(4001)
            return
        # Counted with the user's sockets on every process, or refused when they are too many.
        if not await presence.tracker().connect(user, self.channel_name, max_sockets=conf.get("MAX_SOCKETS_PER_USER")):
            await self.refuse_extra_socket()
            return
        self.user = user  # the User itself (chatsite/socket_auth.py), read for every delivery
        self.watching = {}  # userID -> (pk, shows lastSeen): subscribeUserStatus, oldest first
        self.client = ratelimit.Client(user.pk, ratelimit.socket_address(self.scope))
        self.count_from(unread, muted)
        self.counted_at = {}
        self.recent = {}
        self.threads = set()
        self.receipts = ReceiptRelay(conf.get("READ_RECEIPT_WINDOW"), self.fetch_receipts, self.push_receipts)
        await self.join_threads(thread_ids)
        await self.push("hello", {"userID": user.username, "profile": serialize.user_profile(user), "rules": client_rules})
        await self.push("TOTAL_UNREAD_MESSAGE_COUNT_UPDATED", self.total_unread())

    async def dispatch(self, message):
        """Channels' dispatch, without its ``aclose_old_connections()`` before every
        handler: that is a thread hop (sync_to_async) per pushed event, and on a busy
        process it was the largest cost of a delivery. This consumer touches the
        database only through ``database_sync_to_async``, which closes stale
        connections in its own thread before and after each call."""
        if self.ended and message["type"] != "websocket.disconnect":
            return  # closed by the server: no frame is answered, no event is pushed (``end``)
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def disconnect(self, code):
        if hasattr(self, "receipts"):
            self.receipts.close()
        if hasattr(self, "session_group"):
            await self.channel_layer.group_discard(self.session_group, self.channel_name)
        if hasattr(self, "group_name"):
            await self.channel_layer.group_discard(self.group_name, self.channel_name)
        if hasattr(self, "threads"):
            await self.join_threads(())
        if hasattr(self, "watching"):
            await presence.tracker().disconnect(self.user, self.channel_name)
            await self.unfollow(list(self.watching))

    async def refuse_extra_socket(self):
        """The user has MAX_SOCKETS_PER_USER sockets open already (on any process): this one
        gets the SDK's KICKED_OUT for too many instances of one account, then 4029 (after
        HTTP's 429), on which tim.js stops reconnecting. Closing another tab makes room."""
        limit = conf.get("MAX_SOCKETS_PER_USER")
        await self.push(
            "KICKED_OUT",
            {
                "type": "multipleAccount",
                "code": int(ErrorCode.FREQUENCY_LIMIT),
                "message": f"this account has {limit} connections open already: close a tab or window first",
                "limit": limit,
            },
        )
        await self.close(code=TOO_MANY_SOCKETS_CLOSE_CODE)

    async def chat_kick(self, message):
        """The account was banned (4003) or the login session ended (4001): tell the tab
        and close (it must not reconnect)."""
        if not hasattr(self, "user") or self.ended:
            return
        await self.push("KICKED_OUT", {"type": message.get("reason", "banned")})
        await self.end(message.get("code", 4003))

    async def chat_resync(self, message):
        """The channel layer lost Redis for a while (messaging/channel_layer.py): events
        may have been missed. 4012: the client reconnects and syncs (docs/PROTOCOL.md §8)."""
        await self.end(RESYNC_CLOSE_CODE)

    async def end(self, code):
        """Close the socket, and stop serving it at once: a frame the client sends after
        the close (until its close reply reaches us, or a client that ignores the close)
        is not answered, and no event is pushed. Without this a banned user's or a
        logged-out session's socket still ran every op it sent in that window
        (tests/test_authorization_matrix.py)."""
        self.ended = True
        await self.close(code=code)

    async def receive(self, text_data=None, bytes_data=None):
        """Decode, validate, dispatch, reply, relay the committed events. Every malformed
        frame gets an error reply (docs/PROTOCOL.md §2.2); nothing closes the socket."""
        if not hasattr(self, "user"):
            return
        if text_data is None or len(text_data.encode("utf-8", "surrogatepass")) > conf.get("MAX_FRAME_BYTES"):
            await self.reply_error(None, ErrorCode.INVALID_PARAMETERS, "frames must be JSON text of at most 64 KB")
            return
        request_id = None
        try:
            frame = schemas.decode_frame(text_data)
            request_id = frame.id
            if frame.op == "ping":
                await self.send(text_data=serialize.reply_frame(request_id, {}))
                return
            handler = HANDLERS.get(frame.op) if isinstance(frame.op, str) else None
            if handler is None:
                raise ChatError(ErrorCode.BAD_API_NAME, f"unknown op {frame.op!r}")
            args = schemas.decode_args(frame.op, frame.args)
            data, events = await run_op(handler, self.user, args, self.channel_name, frame.op, self.client)
            recounted = False
            if isinstance(data, presence_queries.SubscriptionChange):
                data = await self.apply_subscription(data)
            elif isinstance(data, sync.Synced):
                if data.thread_ids is not None and not await self.follow_or_resync(data.thread_ids):
                    return  # closed for a resync: a sync has no events
                recounted = data.unread_state is not None and self.count_from(*data.unread_state)
                data = data.reply
        except ChatError as error:
            await self.reply_error(request_id, error.code, error.message, error.data)
            return
        except Exception:
            log.exception("op %r failed", getattr(locals().get("frame"), "op", None))
            await self.reply_error(request_id, ErrorCode.INTERNAL_ERROR, "internal error")
            return
        if any((message.get("meta") or {}).get("refresh") == "groups" and self.user.pk in targets for message, targets in events):
            # This user joined or left groups: this socket follows their threads before the
            # reply, so that what the requester sends next, or a member answers, reaches it
            # live. (Its other sockets do so on the GROUP_LIST_UPDATED below, and their
            # clients sync for what came in between.)
            await self.follow_or_resync(await in_database_thread(groups.get_group_thread_ids)(self.user))
        if not self.ended:
            await self.send(text_data=serialize.reply_frame(request_id, data))
            if recounted:
                await self.push("TOTAL_UNREAD_MESSAGE_COUNT_UPDATED", self.total_unread())
        if events:  # committed: the others get them even when this socket was closed above
            try:
                await send_events(events)
            except Exception as error:  # Redis unreachable: the events are lost; the reply went
                log.warning("events of %r not published (%s); closing the socket for a resync", frame.op, error)
                if not self.ended:
                    await self.end(RESYNC_CLOSE_CODE)

    # --- pushes from the channel layer -----------------------------------------------

    async def chat_event(self, message):
        event, data, meta = message["event"], message["data"], message.get("meta") or {}
        if not is_addressed_to(meta, self.user.pk):
            return  # a thread-group send reached a socket whose user is no longer a member
        if meta.get("refresh") == "groups":
            # Follow the new threads first: whatever is sent to them from now on arrives
            # live, and the client's sync after GROUP_LIST_UPDATED brings what came before.
            group_list, thread_ids = await in_database_thread(session.refresh_groups)(self.user)
            if await self.follow_or_resync(thread_ids):
                await self.push("GROUP_LIST_UPDATED", group_list)
            return
        if event == "MESSAGE_RECEIVED":
            if meta.get("online"):
                await self.deliver_online(message, data)
            else:
                await self.deliver_message(message, data, meta)
            return
        if event == "MESSAGE_REVOKED":
            await self.deliver_revocation(message, data, meta)
            return
        if event == "MESSAGE_MODIFIED":
            await self.deliver_modification(message, data, meta)
            return
        if event == "MESSAGE_READ_RECEIPT_RECEIVED":
            self.receipts.add(data)  # throttled: see receipt_relay
            return
        if event == presence.EVENT:
            await self.deliver_status(data)
            return
        if event == "PROFILE_UPDATED":
            self.note_own_profile(data)
        unread = meta.get("unread", {}).get(str(self.user.pk))
        if unread and len(unread) > 2 and not self.fresh_count(unread[0], unread[2]):
            return  # a read that a later message's count (already here) supersedes
        await self.push(event, data)
        total_changed = self.note_unread(meta)
        if event == "CONVERSATION_LIST_UPDATED":
            total_changed = self.note_remind_types(data) or total_changed
        if total_changed:
            await self.push("TOTAL_UNREAD_MESSAGE_COUNT_UPDATED", self.total_unread())

    async def deliver_message(self, message, data, meta):
        for frame in self.message_frames(message, data, meta):
            await self.send(text_data=frame)

    def message_frames(self, message, data, meta) -> list:
        """One frame per delivery: the message, the conversation's patch and, when it
        changed, the total unread count (docs/PROTOCOL.md, MESSAGE_RECEIVED). ``data`` is
        ``serialize.delivery()``; the frames are ``serialize``'s. The sending socket gets
        only the conversation patch. Notes the counts as sent: the caller sends them all."""
        key = (data["conversationType"], data["to"], data["sequence"], data["from"])
        if key in self.recent:
            return []  # delivered through both the thread group and the user group
        self.recent[key] = None
        if len(self.recent) > 512:
            self.recent.pop(next(iter(self.recent)))
        username = self.user.username
        mine = count_for(meta, self.user.pk)
        conversation_id = serialize.delivery_conversation_id(data, username)
        if mine is not None and not self.fresh_count(conversation_id, data["change"]):
            mine = None
        total_changed = mine is not None and self.set_unread(conversation_id, mine)
        patch = serialize.message_patch(data, username, mine)
        return self.delivery_frames(message, patch, total_changed, serialize.message_frame, data)

    async def deliver_online(self, message, data):
        """An onlineUserOnly message: the message alone to every tab but the sending one
        (it has the reply). It changes no conversation and no count; nothing replays it."""
        if message.get("origin") != self.channel_name:
            await self.send(text_data=serialize.online_message_frame(data, self.user.username))

    async def deliver_revocation(self, message, data, meta):
        """MESSAGE_REVOKED as one frame (the recalled message, the conversation's patch, the
        new total when it changed); ``data`` is ``serialize.revocation()``. The tab that
        asked gets only the patch (it has the message from its reply), as for a send."""
        username, pk = self.user.username, str(self.user.pk)
        mine = count_for(meta, pk)
        conversation_id = serialize.delivery_conversation_id(data, username)
        if mine is not None and not self.fresh_count(conversation_id, data["change"]):
            mine = None
        total_changed = mine is not None and self.set_unread(conversation_id, mine)
        patch = serialize.revoke_patch(
            data, username, mine, is_last=pk in meta.get("last", ()), had_mentions=bool(meta.get("mentions"))
        )
        await self.send_delivery(message, patch, total_changed, serialize.revoke_frame, data)

    async def deliver_modification(self, message, data, meta):
        """MESSAGE_MODIFIED as one frame (the edited message, its conversation's patch); the
        tab that asked gets only the patch. ``data`` is ``serialize.modification()``."""
        patch = serialize.revoke_patch(
            data, self.user.username, None, is_last=str(self.user.pk) in meta.get("last", ()), had_mentions=False
        )
        await self.send_delivery(message, patch, False, serialize.modify_frame, data)

    async def send_delivery(self, message, patch, total_changed, make_frame, data):
        for frame in self.delivery_frames(message, patch, total_changed, make_frame, data):
            await self.send(text_data=frame)

    def delivery_frames(self, message, patch, total_changed, make_frame, data) -> list:
        """The tab whose request caused it gets only the conversation patch (it has the
        message from its reply) and, if its total changed, the new total; every other tab
        one frame from ``make_frame`` (``serialize.message_frame`` or ``revoke_frame``)."""
        if message.get("origin") == self.channel_name:
            frames = [serialize.patch_frame(patch)]
            if total_changed:
                frames.append(serialize.event_frame("TOTAL_UNREAD_MESSAGE_COUNT_UPDATED", self.total_unread()))
            return frames
        total = self.total_unread() if total_changed else None
        return [make_frame(data, self.user.username, patch, total)]

    # --- presence: this socket's subscriptions -----------------------------------------

    async def apply_subscription(self, change):
        """Follow / stop following users' status (channel-layer groups ``presence.<pk>``, so
        changes announced by any process arrive). A socket follows at most
        ``rules.MAX_SUBSCRIPTIONS`` users: the oldest subscriptions go first."""
        await self.unfollow(list(self.watching) if change.unfollow is None else change.unfollow)
        for user_id, pk, shows_last_seen in change.follow:
            self.watching.pop(user_id, None)
            self.watching[user_id] = (pk, shows_last_seen)
            await self.channel_layer.group_add(presence_group(pk), self.channel_name)
        overflow = len(self.watching) - rules.MAX_SUBSCRIPTIONS
        if overflow > 0:
            await self.unfollow(list(self.watching)[:overflow])
        return change.reply

    async def unfollow(self, user_ids):
        for user_id in user_ids:
            entry = self.watching.pop(user_id, None)
            if entry is not None:
                await self.channel_layer.group_discard(presence_group(entry[0]), self.channel_name)

    async def deliver_status(self, items):
        """USER_STATUS_UPDATED for the users this socket follows (and the user's own custom
        status); ``lastSeen`` only where this user may see it (queries/presence.py)."""
        shown = []
        for item in items:
            if item["userID"] == self.user.username:
                shown.append(item)
                continue
            entry = self.watching.get(item["userID"])
            if entry is None:
                continue
            shown.append(item if entry[1] else {k: v for k, v in item.items() if k != "lastSeen"})
        if shown:
            await self.push(presence.EVENT, shown)

    async def fetch_receipts(self, notices):
        return await in_database_thread(receipts.get_receipt_updates)(self.user, notices)

    async def push_receipts(self, items):
        await self.push("MESSAGE_READ_RECEIPT_RECEIVED", items)

    def note_own_profile(self, profiles):
        """This socket's user object sends the messages (their nick and avatar go into each
        one): keep it as the profile now is, without a query."""
        for profile in profiles:
            if profile.get("userID") == self.user.username:
                self.user.nick, self.user.avatar = profile["nick"], profile["avatar"]

    def count_from(self, unread, muted):
        """Count from this unread state (``conversation_list.get_unread_state``'s), read when
        the socket opens or by a ``sync``'s last page (``sync.Synced``); whether the total
        changed. Ops and events are handled one at a time, so the state is never older
        than what the socket applied before it; the events queued while it was read are
        applied after it, as any event is (``fresh_count`` keeps a conversation's older
        count from winning over one this socket took from an event)."""
        before = getattr(self, "unread_total", None)
        self.unread = unread
        self.muted = muted  # conversations whose count stays out of the total (setMessageRemindType)
        self.unread_total = sum(n for cid, n in unread.items() if cid not in muted)
        return self.unread_total != before

    def note_unread(self, meta):
        """Take this user's absolute unread count from ``meta``; whether the total changed."""
        mine = meta.get("unread", {}).get(str(self.user.pk))
        return bool(mine) and self.set_unread(*mine[:2])

    def fresh_count(self, conversation_id, at):
        """Whether an absolute unread count as of change ``at`` is at least as new as the one
        this socket holds (and note it). Events published by different processes can
        arrive out of order: a message's count arriving after a later message's, or after
        the read that covered it, must not win (it would be wrong until the next change)."""
        if at < self.counted_at.get(conversation_id, 0):
            return False
        self.counted_at[conversation_id] = at
        return True

    def set_unread(self, conversation_id, count):
        """Record an absolute unread count; whether the total changed."""
        if conversation_id == rules.SYSTEM_CONVERSATION_ID:
            return False  # its own count, not in the total
        previous = self.unread.pop(conversation_id, 0)
        if count:
            self.unread[conversation_id] = count
        if conversation_id in self.muted:
            return False  # counted, but outside the total
        self.unread_total += count - previous
        return count != previous

    def note_remind_types(self, patches):
        """Follow this user's setMessageRemindType (CONVERSATION_LIST_UPDATED patches with
        ``messageRemindType``): a muted conversation's unread count leaves the total, an
        unmuted one's comes back. Whether the total changed."""
        before = self.unread_total
        for patch in patches if isinstance(patches, list) else ():
            remind_type = patch.get("messageRemindType") if isinstance(patch, dict) else None
            conversation_id = patch.get("conversationID") if remind_type else None
            if conversation_id is None or conversation_id == rules.SYSTEM_CONVERSATION_ID:
                continue
            muted = remind_type != rules.REMIND_ACCEPT_AND_NOTIFY
            if muted == (conversation_id in self.muted):
                continue
            count = self.unread.get(conversation_id, 0)
            if muted:
                self.muted.add(conversation_id)
                self.unread_total -= count
            else:
                self.muted.discard(conversation_id)
                self.unread_total += count
        return self.unread_total != before

    async def join_threads(self, thread_ids):
        """Follow the channel-layer groups of exactly these group threads. ``self.threads``
        is what is followed, also when the layer fails part way."""
        thread_ids = set(thread_ids)
        for thread_id in thread_ids - self.threads:
            await self.channel_layer.group_add(thread_group(thread_id), self.channel_name)
            self.threads.add(thread_id)
        for thread_id in self.threads - thread_ids:
            await self.channel_layer.group_discard(thread_group(thread_id), self.channel_name)
            self.threads.discard(thread_id)

    async def follow_or_resync(self, thread_ids) -> bool:
        """``join_threads``, after a ``sync`` or a change of the user's groups; when the
        layer fails (Redis away), the socket is closed for a resync (4012), as for a lost
        event: it would otherwise miss, without a word, the live messages of a group it
        does not follow. The client reconnects and syncs (docs/PROTOCOL.md §8)."""
        try:
            await self.join_threads(thread_ids)
        except Exception as error:
            log.warning("could not follow the groups of %s (%s); closing the socket for a resync", self.channel_name, error)
            await self.end(RESYNC_CLOSE_CODE)
            return False
        return True

    def total_unread(self):
        return self.unread_total

    # --- frames (built by serialize) ---------------------------------------------------

    async def send(self, text_data=None, bytes_data=None, close=False):
        """A frame for a socket the client is closing is dropped, not an error: Daphne
        (autobahn) raises ``Disconnected`` when a push races the close. Whatever the frame
        said, the client gets again from ``sync`` when it reconnects (docs/PROTOCOL.md §8)."""
        try:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)
        except Disconnected:
            pass

    async def push(self, event, data):
        await self.send(text_data=serialize.event_frame(event, data))

    async def reply_error(self, request_id, code, text, data=None):
        await self.send(text_data=serialize.error_frame(request_id, code, text, data))
