"""Serialisation to the SDK's shapes (shared/spec/TIM.md sections 2 and 4). The only place.

Message dicts are built viewer-independent (``message_base``) so that one event
serves every viewer; ``for_viewer`` fills in the two fields that depend on who
looks (``flow`` and ``conversationID``).
"""

import json

from messaging.models import Conversation, Group, Message, Thread, Upload, User

GROUP_TIP = "TIMGroupTipElem"
TEXT = "TIMTextElem"

# TIM.TYPES.GRP_TIP_* operation types
TIP_MEMBER_JOIN = 1
TIP_MEMBER_QUIT = 2
TIP_MEMBER_KICKED_OUT = 3
TIP_GROUP_PROFILE_UPDATED = 6

FOR_SHOW = {
    "TIMImageElem": "[Image]",
    "TIMSoundElem": "[Voice]",
    "TIMVideoFileElem": "[Video]",
    "TIMFileElem": "[File]",
    "TIMCustomElem": "[Custom Message]",
    "TIMFaceElem": "[Emoji]",
    "TIMLocationElem": "[Location]",
    "TIMRelayElem": "[Chat History]",
    "TIMGroupSystemNoticeElem": "[Group Notice]",
}


def dumps(value) -> str:
    """The one JSON encoding of the wire (compact, UTF-8 kept)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def epoch(dt):
    return int(dt.timestamp()) if dt else 0


def user_profile(user: User):
    return {"userID": user.username, "nick": user.nick, "avatar": user.avatar}


def group_tip_text(payload):
    """The tip in words, with nicknames where the tip carries them."""
    names = {m.get("userID"): m.get("nick") or m.get("userID") for m in payload.get("memberList") or []}
    user_ids = payload.get("userIDList") or []
    users = ", ".join(names.get(u) or u for u in user_ids)
    operator_id = payload.get("operatorID", "")
    operator = (payload.get("operatorInfo") or {}).get("nick") or operator_id
    op = payload.get("operationType")
    if op == TIP_MEMBER_JOIN:
        if payload.get("groupJoinType") == 2 and operator_id and operator_id not in user_ids:
            return f"{operator} invited {users} to the group"
        return f"{users} joined the group"
    if op == TIP_MEMBER_QUIT:
        return f"{users} left the group"
    if op == TIP_MEMBER_KICKED_OUT:
        return f"{operator} removed {users} from the group"
    if op == TIP_GROUP_PROFILE_UPDATED:
        return f"{operator} updated the group profile"
    return "[Group Tip]"


def message_for_show(msg_type, payload):
    if msg_type == TEXT:
        return payload.get("text", "")
    if msg_type == GROUP_TIP:
        return group_tip_text(payload)
    return FOR_SHOW.get(msg_type, "[Message]")


def message_base(msg: Message, thread: Thread, *, sender: User | None, to: str):
    """The viewer-independent SDK Message. ``to`` is the receiver's userID (C2C) or the groupID."""
    return {
        "ID": msg.msg_id,
        "type": msg.type,
        "payload": msg.payload,
        "conversationType": thread.kind,
        "to": to,
        "from": sender.username if sender else "",
        "nick": sender.nick if sender else "",
        "avatar": sender.avatar if sender else "",
        "nameCard": "",
        "time": epoch(msg.created_at),
        "clientTime": msg.client_time,
        "sequence": msg.seq,
        "random": msg.random,
        "status": "success",
        "priority": msg.priority,
        "isRevoked": msg.is_revoked,
        "revoker": None,
        "isPeerRead": False,
        "isDeleted": False,
        "isModified": False,
        "atUserList": msg.at_user_list or [],
        "cloudCustomData": msg.cloud_custom_data,
        "needReadReceipt": msg.need_read_receipt,
        "messageForShow": message_for_show(msg.type, msg.payload),
    }


def for_viewer(base: dict, viewer_id: str, *, peer_read_seq: int = 0):
    """A copy of ``base`` as ``viewer_id`` sees it."""
    message = dict(base)
    out = base["from"] == viewer_id
    message["flow"] = "out" if out else "in"
    if base["conversationType"] == Thread.Kind.GROUP:
        message["conversationID"] = f"GROUP{base['to']}"
    else:
        message["conversationID"] = f"C2C{base['to'] if out else base['from']}"
        message["isPeerRead"] = out and base["sequence"] <= peer_read_seq
    return message


def last_message(msg: Message | None, *, sender: User | None, peer_read_seq: int = 0, viewer_id: str = ""):
    if msg is None:
        return None
    return {
        "ID": msg.msg_id,
        "nick": sender.nick if sender else "",
        "nameCard": "",
        "lastTime": epoch(msg.created_at),
        "lastSequence": msg.seq,
        "fromAccount": sender.username if sender else "",
        "isRevoked": msg.is_revoked,
        "revoker": None,
        "isPeerRead": bool(sender and sender.username == viewer_id and msg.seq <= peer_read_seq),
        "messageForShow": message_for_show(msg.type, msg.payload),
        "type": msg.type,
        "payload": msg.payload,
        "cloudCustomData": msg.cloud_custom_data,
    }


def group_profile(group: Group, *, self_role: str | None = None):
    """Expects ``owner`` and ``thread`` selected (select_related), or it queries."""
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
    }
    if self_role is not None:
        profile["selfInfo"] = {"role": self_role, "messageRemindType": "AcceptAndNotify", "nameCard": ""}
    return profile


def conversation(conv: Conversation, viewer: User, *, peer_read_seq: int = 0, group_at_info=()):
    """The SDK Conversation object. Expects peer, group, last_message and its sender selected."""
    data = {
        "conversationID": conv.conversation_id,
        "type": _kind(conv.conversation_id),
        "subType": conv.group.type if conv.group_id else "",
        "unreadCount": conv.unread_count,
        "lastMessage": last_message(
            conv.last_message,
            sender=conv.last_message.sender if conv.last_message_id else None,
            peer_read_seq=peer_read_seq,
            viewer_id=viewer.username,
        ),
        "groupAtInfoList": [dict(info, groupID=conv.group.group_id) for info in group_at_info] if conv.group_id else [],
        "remark": "",
        "isPinned": conv.is_pinned,
        "messageRemindType": "AcceptAndNotify",
        "peerReadSequence": peer_read_seq,
        "userProfile": user_profile(conv.peer) if conv.peer_id else None,
        "groupProfile": group_profile(conv.group) if conv.group_id else None,
    }
    if data["lastMessage"] is None:
        data["lastMessage"] = {}
    return data


def _kind(conversation_id):
    if conversation_id.startswith("GROUP"):
        return Thread.Kind.GROUP
    if conversation_id.startswith("C2C"):
        return Thread.Kind.C2C
    return Thread.Kind.SYSTEM


def member(gm, user: User):
    return {
        "userID": user.username,
        "nick": user.nick,
        "avatar": user.avatar,
        "role": gm.role,
        "nameCard": gm.name_card,
        "joinTime": epoch(gm.joined_at),
        "muteUntil": epoch(gm.muted_until),
    }


def last_message_from_message(message: dict):
    """The conversation's ``lastMessage`` made from an SDK Message dict (for live updates)."""
    return {
        "ID": message["ID"],
        "nick": message["nick"],
        "nameCard": message["nameCard"],
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


def delivery(base: dict) -> dict:
    """A new message as the channel layer carries it to the sockets: the two JSON
    encodings a socket can need (a receiver's, flow "in"; the sender's other tabs',
    flow "out"), each with its conversation's ``lastMessage``, and the few fields a
    consumer reads. Small and flat: every socket's consumer unpacks it."""
    c2c = base["conversationType"] == Thread.Kind.C2C
    received = for_viewer(base, base["to"] if c2c else "")
    sent = for_viewer(base, base["from"])
    return {
        "ID": base["ID"],
        "from": base["from"],
        "to": base["to"],
        "conversationType": base["conversationType"],
        "sequence": base["sequence"],
        "atUserList": base["atUserList"],
        "json_in": dumps(received),
        "last_json_in": dumps(last_message_from_message(received)),
        "json_out": dumps(sent),
        "last_json_out": dumps(last_message_from_message(sent)),
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
