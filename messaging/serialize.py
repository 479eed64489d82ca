"""Serialisation to the SDK's shapes (shared/spec/TIM.md sections 2 and 4), and every
frame the WebSocket sends (docs/PROTOCOL.md §2, §6). The only place.

Message dicts are built viewer-independent (``message_base``) so that one event
serves every viewer; ``for_viewer`` fills in the two fields that depend on who
looks (``flow`` and ``conversationID``). A new message crosses the channel layer as
``delivery()``: its JSON already encoded for a receiver and for the sender's other
tabs, so that each socket only splices in its own conversation patch
(``message_frame``) instead of encoding the message again.
"""

import json

from messaging import rules
from messaging.models import Conversation, Group, Message, Thread, Upload, User

# Kept here for the callers that serialise tips and bodies.
GROUP_TIP = rules.GROUP_TIP
TEXT = rules.TEXT
message_for_show = rules.message_for_show


def dumps(value) -> str:
    """The one JSON encoding of the wire (compact, UTF-8 kept)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def epoch(dt):
    return int(dt.timestamp()) if dt else 0


def user_profile(user: User):
    """The brief profile that messages and conversations carry."""
    return {"userID": user.username, "nick": user.nick, "avatar": user.avatar}


def profile(user: User):
    """The SDK's Profile object (getMyProfile, getUserProfile, PROFILE_UPDATED)."""
    return {
        "userID": user.username,
        "nick": user.nick,
        "avatar": user.avatar,
        "gender": user.gender,
        "birthday": user.birthday,
        "location": user.location,
        "selfSignature": user.self_signature,
        "allowType": user.allow_type,
        "profileCustomField": custom_field_list(user.profile_custom_field),
    }


DIRECTORY_FIELDS = ("userID", "nick", "avatar", "gender", "birthday", "selfSignature")


def directory_profile(user: User):
    """A directory search result: the SDK's searchCloudUsers profile (``profile`` without
    location, allowType and custom fields)."""
    full = profile(user)
    return {name: full[name] for name in DIRECTORY_FIELDS}


def revoker_info(msg: Message):
    """``revokerInfo`` of a recalled message (None otherwise). Expects ``revoker`` selected
    where a list may hold recalled messages."""
    if not msg.is_revoked:
        return None
    revoker = msg.revoker if msg.revoker_id else None
    return user_profile(revoker) if revoker else {"userID": "", "nick": "", "avatar": ""}


def _sender_id(msg: Message, sender: User | None) -> str:
    """``from``: the sender's userID; a system notice (no sender) comes from ``@TIM#SYSTEM``
    (actions/system_notices.py), as the SDK's do."""
    if sender is not None:
        return sender.username
    return rules.SYSTEM_CONVERSATION_ID if msg.type == rules.GROUP_SYSTEM_NOTICE else ""


def _shown(msg: Message):
    """(payload, cloudCustomData, atUserList, messageForShow, revokerInfo) as every viewer
    sees them: a recalled message keeps its content in the row, never on the wire."""
    info = revoker_info(msg)
    if info is not None:
        return {}, "", [], rules.revoked_text(info["nick"] or info["userID"]), info
    return msg.payload, msg.cloud_custom_data, msg.at_user_list or [], message_for_show(msg.type, msg.payload), None


def message_base(msg: Message, thread: Thread, *, sender: User | None, to: str, name_card: str = ""):
    """The viewer-independent SDK Message. ``to`` is the receiver's userID (C2C) or the groupID;
    ``name_card`` the sender's current card in that group (queries.name_cards for a page)."""
    payload, cloud_custom_data, at_user_list, for_show, revoked_by = _shown(msg)
    message = {
        "ID": msg.msg_id,
        "type": msg.type,
        "payload": payload,
        "conversationType": thread.kind,
        "to": to,
        "from": _sender_id(msg, sender),
        "nick": sender.nick if sender else "",
        "avatar": sender.avatar if sender else "",
        "nameCard": name_card,
        "time": epoch(msg.created_at),
        "clientTime": msg.client_time,
        "sequence": msg.seq,
        "random": msg.random,
        "status": "success",
        "priority": msg.priority,
        "isRevoked": msg.is_revoked,
        "revoker": revoked_by["userID"] if revoked_by else None,
        "revokerInfo": revoked_by,
        "isPeerRead": False,
        "isDeleted": False,
        "isModified": msg.version > 0,
        # Our extension: the edit counter that modifyMessage names (docs/PROTOCOL.md §5.51).
        "version": msg.version,
        "atUserList": at_user_list,
        "cloudCustomData": cloud_custom_data,
        "needReadReceipt": msg.need_read_receipt,
        "messageForShow": for_show,
    }
    if msg.is_targeted:
        message["receiverList"] = msg.receiver_list  # only targeted group messages have one (TIM.md §2)
    return message


def for_viewer(base: dict, viewer_id: str, *, peer_read_seq: int = 0):
    """A copy of ``base`` as ``viewer_id`` sees it."""
    message = dict(base)
    out = base["from"] == viewer_id
    message["flow"] = "out" if out else "in"
    message["conversationID"] = rules.viewer_conversation_id(base["conversationType"], base["to"], base["from"], viewer_id)
    if base["conversationType"] == Thread.Kind.C2C:
        message["isPeerRead"] = out and base["sequence"] <= peer_read_seq
    return message


def last_message(msg: Message | None, *, sender: User | None, peer_read_seq: int = 0, viewer_id: str = ""):
    if msg is None:
        return None
    payload, cloud_custom_data, _, for_show, revoked_by = _shown(msg)
    return {
        "ID": msg.msg_id,
        "nick": sender.nick if sender else "",
        "nameCard": "",
        "lastTime": epoch(msg.created_at),
        "lastSequence": msg.seq,
        "fromAccount": _sender_id(msg, sender),
        "isRevoked": msg.is_revoked,
        "revoker": revoked_by["userID"] if revoked_by else None,
        "isPeerRead": bool(sender and sender.username == viewer_id and msg.seq <= peer_read_seq),
        "messageForShow": for_show,
        "type": msg.type,
        "payload": payload,
        "cloudCustomData": cloud_custom_data,
    }


# What only members see of a group: the notice board, the message counter (it tells how
# busy the group is) and the custom fields. A stranger looking at a Public or Meeting
# group, to decide whether to join it, gets the rest (``stranger_group_profile``).
MEMBERS_ONLY_GROUP_FIELDS = ("notification", "nextMessageSeq", "groupCustomField")


def stranger_group_profile(group: Group):
    """The group as a non-member may see it (getGroupProfile, searchGroupByID, the group
    directory): ``group_profile`` without ``MEMBERS_ONLY_GROUP_FIELDS`` nor ``selfInfo``."""
    profile = group_profile(group)
    for name in MEMBERS_ONLY_GROUP_FIELDS:
        del profile[name]
    return profile


def group_profile(group: Group, *, self_role: str | None = None, remind_type: str | None = None):
    """A member's view of the group. Expects ``owner`` and ``thread`` selected
    (select_related), or it queries."""
    profile = {
        "groupID": group.group_id,
        "name": group.name,
        "type": group.type,
        "avatar": group.avatar,
        "introduction": group.introduction,
        "notification": group.notification,
        "ownerID": group.owner.username if group.owner_id else "",
        "createTime": epoch(group.created_at),
        "memberCount": group.member_count,
        "maxMemberCount": 6000,
        "joinOption": group.join_option,
        "muteAllMembers": group.mute_all,
        "nextMessageSeq": group.thread.last_seq + 1,
        "groupCustomField": custom_field_list(group.custom_fields),
    }
    if self_role is not None:
        # The SDK's GroupSelfInfo; messageRemindType is the user's setMessageRemindType for
        # the group's conversation (``remind_type_subquery``).
        remind_type = remind_type or rules.REMIND_ACCEPT_AND_NOTIFY
        profile["selfInfo"] = {"role": self_role, "messageRemindType": remind_type, "nameCard": ""}
    return profile


def conversation(conv: Conversation, viewer: User, *, peer_read_seq: int = 0, group_at_info=()):
    """The SDK Conversation object. Expects peer, group, last_message and its sender selected."""
    data = {
        "conversationID": conv.conversation_id,
        "type": conversation_kind(conv.conversation_id),
        "subType": conv.group.type if conv.group_id else "",
        "unreadCount": conv.unread_count,
        "lastMessage": last_message(
            conv.last_message,
            sender=conv.last_message.sender if conv.last_message_id else None,
            peer_read_seq=peer_read_seq,
            viewer_id=viewer.username,
        ),
        "groupAtInfoList": [dict(info, groupID=conv.group.group_id) for info in group_at_info] if conv.group_id else [],
        # The viewer's remark for the C2C peer (a friend's), annotated by the query.
        "remark": getattr(conv, "friend_remark", "") or "",
        "isPinned": conv.is_pinned,
        "messageRemindType": conv.remind_type,
        "draftText": conv.draft_text,
        "markList": rules.mark_list(conv.marks),
        "conversationGroupList": list(conv.group_names),
        "peerReadSequence": peer_read_seq,
        # Our extension: the thread's change counter as of this read (docs/PROTOCOL.md §8).
        "syncCursor": conv.thread.last_change,
        "userProfile": user_profile(conv.peer) if conv.peer_id else None,
        "groupProfile": group_profile(conv.group) if conv.group_id else None,
    }
    if data["lastMessage"] is None:
        data["lastMessage"] = {}
    return data


def conversation_kind(conversation_id):
    target = rules.parse_conversation_id(conversation_id)
    return target.kind if target else Thread.Kind.SYSTEM


def member(gm, user: User):
    return {
        "userID": user.username,
        "nick": user.nick,
        "avatar": user.avatar,
        "role": gm.role,
        "nameCard": gm.name_card,
        "joinTime": epoch(gm.joined_at),
        "muteUntil": epoch(gm.muted_until),
        "memberCustomField": custom_field_list(gm.custom_fields),
    }


def custom_field_list(fields: dict):
    """The SDK's ``[{"key", "value"}]``, by key."""
    return [{"key": key, "value": fields[key]} for key in sorted(fields)]


def last_message_from_message(message: dict):
    """The conversation's ``lastMessage`` made from an SDK Message dict (for live updates)."""
    return {
        "ID": message["ID"],
        "nick": message["nick"],
        "nameCard": "",  # as getConversationList's lastMessage: the list reads no cards
        "lastTime": message["time"],
        "lastSequence": message["sequence"],
        "fromAccount": message["from"],
        "isRevoked": message["isRevoked"],
        "revoker": message["revoker"],
        "isPeerRead": message["isPeerRead"],
        "messageForShow": message["messageForShow"],
        "type": message["type"],
        "payload": message["payload"],
        "cloudCustomData": message["cloudCustomData"],
    }


def _for_both_audiences(base: dict, *, peer_read_seq: int = 0):
    """The message as its receivers see it (flow "in") and as the sender's tabs see it
    (flow "out"), and the fields of a channel-layer event that every socket reads: each
    audience's JSON and conversation ID, encoded once per message."""
    c2c = base["conversationType"] == Thread.Kind.C2C
    received = for_viewer(base, base["to"] if c2c else "")
    sent = for_viewer(base, base["from"], peer_read_seq=peer_read_seq)
    event = {
        "ID": base["ID"],
        "from": base["from"],
        "to": base["to"],
        "conversationType": base["conversationType"],
        "json_in": dumps(received),
        "json_out": dumps(sent),
        "cid_in": received["conversationID"],
        "cid_out": sent["conversationID"],
    }
    return received, sent, event


def delivery(base: dict, change: int, *, last_message: bool = True) -> dict:
    """A new message as the channel layer carries it to the sockets, made once per
    message: for each of the two audiences (a receiver, flow "in"; the sender's other
    tabs, flow "out") the message's JSON, its conversation's ID and the opening of the
    conversation patch (ID, type, ``syncCursor`` = ``change``, the thread's change
    number of this message, and ``lastMessage``), so that a socket only adds its own
    unread count and @-flag (``message_patch``). Small and flat: every socket's
    consumer unpacks it. ``last_message`` False (excludedFromLastMessage): the patch
    leaves ``lastMessage`` as it is."""
    received, sent, event = _for_both_audiences(base)
    event.update(
        sequence=base["sequence"],
        change=change,
        atUserList=base["atUserList"],
        patch_in=_patch_head(received, change, last_message=last_message),
        patch_out=_patch_head(sent, change, last_message=last_message),
    )
    return event


def online_delivery(base: dict) -> dict:
    """An onlineUserOnly message as the channel layer carries it: each audience's JSON
    and nothing of the conversation (it changes no conversation and has no change number)."""
    return _for_both_audiences(base)[2]


def online_message_frame(delivery: dict, viewer_id: str) -> str:
    """MESSAGE_RECEIVED of an onlineUserOnly message: the message alone, no patch, no total."""
    return '{"event":"MESSAGE_RECEIVED","data":[' + _viewer_json(delivery, viewer_id) + "]}"


def _viewer_json(data: dict, viewer_id: str) -> str:
    """The message's JSON for ``viewer_id``'s audience (``_for_both_audiences``)."""
    return data["json_out"] if data["from"] == viewer_id else data["json_in"]


def revocation(base: dict, change: int, *, peer_read_seq: int = 0) -> dict:
    """A recalled message (``message_base`` of the revoked row) as the channel layer carries
    MESSAGE_REVOKED, made once: for each audience (receivers; the sender's tabs) the
    message's JSON, its conversation's ID and the JSON of the conversation's revoked
    ``lastMessage``, so that each socket only adds its own counts (``revoke_patch``).
    ``peer_read_seq`` (C2C) is the receiver's read cursor: the sender's tabs see
    ``isPeerRead`` as a refetch would. ``change`` is the thread's change number of the recall."""
    received, sent, event = _for_both_audiences(base, peer_read_seq=peer_read_seq)
    event.update(
        change=change,
        last_in=dumps(last_message_from_message(received)),
        last_out=dumps(last_message_from_message(sent)),
    )
    return event


def modification(base: dict, change: int, *, peer_read_seq: int = 0) -> dict:
    """An edited message as the channel layer carries MESSAGE_MODIFIED: the same fields as a
    recall's (each audience's message JSON and ``lastMessage``), with the new content;
    each socket adds its patch with ``revoke_patch`` (no unread count: an edit changes none)."""
    return revocation(base, change, peer_read_seq=peer_read_seq)


def modify_frame(modification: dict, viewer_id: str, patch: str, total: int | None) -> str:
    """MESSAGE_MODIFIED as one frame: the edited message as the viewer sees it and its
    conversation's patch (§6.18)."""
    return _event_with_patch("MESSAGE_MODIFIED", modification, viewer_id, patch, total)


def cursor_patch(conversation_id: str, change: int) -> dict:
    """A conversation patch that only moves the client's ``syncCursor``: a change the
    viewer may not see (a targeted message to others, or its recall)."""
    return {"conversationID": conversation_id, "syncCursor": change}


def revoke_patch(revocation: dict, viewer_id: str, unread: int | None, *, is_last: bool, had_mentions: bool) -> str:
    """The conversation patch a recall makes for ``viewer_id`` (docs/PROTOCOL.md §6.3): the
    revoked ``lastMessage`` when it was the conversation's last message, the viewer's
    absolute ``unreadCount``, and ``groupAtInfoRemoved`` when the message mentioned
    anyone (the client drops that message's entry from ``groupAtInfoList``, if it has one)."""
    out = revocation["from"] == viewer_id
    head = {
        "conversationID": revocation["cid_out"] if out else revocation["cid_in"],
        "type": revocation["conversationType"],
        "syncCursor": revocation["change"],
    }
    patch = dumps(head)[:-1]
    if is_last:
        patch += ',"lastMessage":' + (revocation["last_out"] if out else revocation["last_in"])
    if unread is not None:
        patch += f',"unreadCount":{int(unread)}'
    if had_mentions:
        patch += ',"groupAtInfoRemoved":' + dumps({"messageID": revocation["ID"], "groupID": revocation["to"]})
    return patch + "}"


def revoke_frame(revocation: dict, viewer_id: str, patch: str, total: int | None) -> str:
    """MESSAGE_REVOKED as one frame, laid out as MESSAGE_RECEIVED's: the recalled message as
    the viewer sees it, its conversation's patch and, when it changed, the new total."""
    return _event_with_patch("MESSAGE_REVOKED", revocation, viewer_id, patch, total)


def _patch_head(message: dict, change: int, *, last_message: bool = True) -> str:
    head = {"conversationID": message["conversationID"], "type": message["conversationType"], "syncCursor": change}
    head = dumps(head)[:-1]
    return head + ',"lastMessage":' + dumps(last_message_from_message(message)) if last_message else head


# --- read receipts (docs/PROTOCOL.md, MESSAGE_READ_RECEIPT_RECEIVED) ---------------------


def read_receipt_info(kind: str, read_count: int, unread_count: int, read_at) -> dict:
    """A message's ``readReceiptInfo``: the read and unread member counts (a group), or in
    C2C whether the receiver sent a receipt for it (``isPeerRead``, with the time in
    seconds of the first receipt that covered it; the counts are then 1/0)."""
    c2c = kind == Thread.Kind.C2C
    return {
        "readCount": read_count,
        "unreadCount": unread_count,
        "isPeerRead": c2c and read_count > 0,
        "timestamp": epoch(read_at) if c2c and read_count else 0,
    }


def receipt_notice(thread_pk, conversation_id, *, group_id, user_id, after_seq, upto_seq) -> dict:
    """What MESSAGE_READ_RECEIPT_RECEIVED carries over the channel layer: a reader's cursor
    moved from ``after_seq`` to ``upto_seq`` in the thread that the senders see as
    ``conversation_id``. Never forwarded as is: the sender's socket reads the counts
    (queries.receipts.get_receipt_updates) and sends ``receipt_event_item``s."""
    return {
        "thread": thread_pk,
        "kind": Thread.Kind.GROUP if group_id else Thread.Kind.C2C,
        "conversationID": conversation_id,
        "groupID": group_id,
        "userID": user_id,
        "after": after_seq,
        "upto": upto_seq,
    }


def receipt_event_item(notice: dict, message_id: str, info: dict) -> dict:
    """One entry of MESSAGE_READ_RECEIPT_RECEIVED's data, as the SDK's: ``groupID`` (group)
    or ``userID`` (C2C: the receiver), ``messageID`` and the ``readReceiptInfo`` fields,
    plus the ``conversationID`` the sender sees it in."""
    return {
        "conversationID": notice["conversationID"],
        "groupID": notice["groupID"],
        "userID": notice["userID"],
        "messageID": message_id,
        **info,
    }


# --- uploads ------------------------------------------------------------------------
# (name, SDK imageInfoArray type) of the stored variants, original first.
IMAGE_INFO_TYPES = (("original", 0), ("thumb", 1), ("large", 2))


def file_url(upload: Upload, variant="original", *, download=False) -> str:
    """The members-only download URL of an upload's variant (``chatsite/urls.py``'s ``file``)."""
    url = f"/files/{upload.uuid.hex}/{variant}"
    return url + "?download=1" if download else url


def image_payload(upload: Upload) -> dict:
    """A ready image upload as the SDK's TIMImageElem payload (original, thumb, large)."""
    infos = []
    for variant, sdk_type in IMAGE_INFO_TYPES:
        info = upload.variants.get(variant, {})
        infos.append(
            {
                "type": sdk_type,
                "width": info.get("width", upload.width or 0),
                "height": info.get("height", upload.height or 0),
                "size": info.get("size", upload.size),
                "url": file_url(upload, variant),
            }
        )
    return {"uuid": upload.uuid.hex, "imageFormat": upload.image_format or 255, "imageInfoArray": infos}


def upload(upload: Upload) -> dict:
    """An upload as the HTTP API answers it; a ready image also carries its TIMImageElem payload."""
    data = {
        "uuid": upload.uuid.hex,
        "kind": upload.kind,
        "status": upload.status,
        "name": upload.name,
        "size": upload.size or upload.declared_size,
        "contentType": upload.content_type,
    }
    if upload.kind == Upload.Kind.IMAGE and upload.status == Upload.Status.READY:
        data["image"] = image_payload(upload)
    return data


def message_report(report, conversation_id: str) -> dict:
    """A report as its reporter sees it (``reportMessage``'s reply)."""
    return {
        "reportID": str(report.pk),
        "messageID": report.message.msg_id,
        "conversationID": conversation_id,
        "reason": report.reason,
        "description": report.description,
        "status": report.status,
        "time": int(report.created_at.timestamp()),
    }


# --- frames ------------------------------------------------------------------------------


def reply_frame(request_id, data) -> str:
    return dumps({"id": request_id, "ok": True, "data": data})


def error_frame(request_id, code, message, data=None) -> str:
    frame = {"id": request_id, "ok": False, "code": int(code), "message": message}
    if data is not None:
        frame["data"] = data  # e.g. modifyMessage's conflict: the current version (§5.51)
    return dumps(frame)


def event_frame(event, data) -> str:
    return dumps({"event": event, "data": data})


def delivery_conversation_id(delivery: dict, viewer_id: str) -> str:
    """The conversation a delivered message is in, as ``viewer_id`` sees it."""
    return delivery["cid_out"] if delivery["from"] == viewer_id else delivery["cid_in"]


def message_patch(delivery: dict, viewer_id: str, unread: int | None) -> str:
    """The JSON of the conversation patch a new message makes for ``viewer_id``
    (docs/PROTOCOL.md §6.3): its ``lastMessage``, the viewer's absolute ``unreadCount``
    when the sender's action counted it, and ``groupAtInfoAdded`` when it mentions them.
    The delivery carries the rest encoded: this runs once per receiving socket."""
    patch = delivery["patch_out"] if delivery["from"] == viewer_id else delivery["patch_in"]
    if unread is not None:
        patch += f',"unreadCount":{int(unread)}'
    at_type = delivery["atUserList"] and rules.at_type(delivery["atUserList"], viewer_id, delivery["from"])
    if at_type:
        info = {
            "messageID": delivery["ID"],
            "messageSequence": delivery["sequence"],
            "atType": at_type,
            "groupID": delivery["to"],
        }
        patch += ',"groupAtInfoAdded":' + dumps(info)
    return patch + "}"


def message_frame(delivery: dict, viewer_id: str, patch: str, total: int | None) -> str:
    """MESSAGE_RECEIVED as one frame: the message as the viewer sees it, its conversation's
    patch and, when it changed, the viewer's new total unread count (§6.2)."""
    return _event_with_patch("MESSAGE_RECEIVED", delivery, viewer_id, patch, total)


def _event_with_patch(event: str, data: dict, viewer_id: str, patch: str, total: int | None) -> str:
    message_json = _viewer_json(data, viewer_id)
    total_json = f',"totalUnreadCount":{int(total)}' if total is not None else ""
    return '{"event":"' + event + '","data":[' + message_json + '],"conversation":' + patch + total_json + "}"


def patch_frame(patch: str) -> str:
    """The sending tab's frame for its own message: only the conversation patch (it has the
    message from its reply)."""
    return '{"event":"CONVERSATION_LIST_UPDATED","data":[' + patch + "]}"


# --- the relationship chain (actions/friends.py, queries/friends.py) ------------------------


def friend(row) -> dict:
    """The SDK Friend object of a ``Friend`` row, as its owner sees it (``friend`` selected).
    Friend groups and custom friend fields are not kept: always empty."""
    return {
        "userID": row.friend.username,
        "remark": row.remark,
        "groupList": [],
        "source": row.source,
        "wording": row.wording,
        "time": epoch(row.created_at),
        "profile": user_profile(row.friend),
        "friendCustomFriend": [],
    }


def friend_application(row, viewer_pk) -> dict:
    """The SDK FriendApplication of a pending request, as ``viewer_pk`` sees it: ``userID``
    is the other party (the applicant when it is SENT_TO_ME), with their nick and avatar."""
    sent_to_me = row.target_id == viewer_pk
    other = row.applicant if sent_to_me else row.target
    return {
        "userID": other.username,
        "avatar": other.avatar,
        "nick": other.nick,
        "time": epoch(row.created_at),
        "source": row.source,
        "wording": row.wording,
        "type": rules.SNS_APPLICATION_SENT_TO_ME if sent_to_me else rules.SNS_APPLICATION_SENT_BY_ME,
    }
