"""Every SDK message type: as stored by actions.send_message, as the peer receives it
over the WebSocket, and the errors that store nothing. Then @mentions
(createTextAtMessage, groupAtInfoList), forward (createForwardMessage) and merger
(createMergerMessage, downloadMergerMessage).

Upload types use real uploads in a temporary MEDIA_ROOT (filesystem storage).
"""

import math

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from messaging import actions, serialize
from messaging.actions.message_types import downloaded_merger_list
from messaging.errors import ChatError
from messaging.models import GroupAtMention, Message, Upload
from messaging.queries.conversation_list import get_conversation_list, get_conversation_profile
from messaging.queries.message_list import get_message_list
from messaging.rules import AT_ALL
from tests.chat_helpers import db_snapshot, fast_passwords, make_group, send_text  # noqa: F401
from tests.media_helpers import MP4, jpeg, png, stored_files, upload, use_filesystem_storage, wav

pytestmark = pytest.mark.django_db

TEXT = "TIMTextElem"
IMAGE = "TIMImageElem"
AUDIO = "TIMSoundElem"
VIDEO = "TIMVideoFileElem"
FILE = "TIMFileElem"
CUSTOM = "TIMCustomElem"
FACE = "TIMFaceElem"
LOCATION = "TIMLocationElem"
MERGER = "TIMRelayElem"
KINDS = ["text", "image", "audio", "video", "file", "custom", "face", "location", "merger"]
FOR_SHOW = {
    IMAGE: "[Image]",
    AUDIO: "[Voice]",
    VIDEO: "[Video]",
    FILE: "[File]",
    CUSTOM: "[Custom Message]",
    FACE: "[Emoji]",
    LOCATION: "[Location]",
    MERGER: "[Chat History]",
}
db = database_sync_to_async


@pytest.fixture
def media_root(settings, tmp_path):
    return use_filesystem_storage(settings, tmp_path)


def send(sender, to, msg_type, payload, conversation_type="C2C", **kwargs):
    return actions.send_message(
        sender, conversation_type=conversation_type, to=to, msg_type=msg_type, payload=payload, **kwargs
    ).message


def conversation_id(conversation_type, to):
    return f"{'GROUP' if conversation_type == 'GROUP' else 'C2C'}{to}"


def refused(code, call, *args, **kwargs):
    """``call`` raises ChatError(code) and changes nothing: rows, seqs, stored objects."""
    root = kwargs.pop("root", None)
    before = db_snapshot(), Message.objects.count(), Upload.objects.count(), stored_files(root) if root else None
    with pytest.raises(ChatError) as info:
        call(*args, **kwargs)
    assert info.value.code == code, info.value.message
    assert (db_snapshot(), Message.objects.count(), Upload.objects.count(), stored_files(root) if root else None) == before
    return info.value


def snapshot_of(message):
    """A message as a merged message's list holds it."""
    return {
        "ID": message.msg_id,
        "type": message.type,
        "payload": message.payload,
        "from": message.sender.username,
        "nick": message.sender.nick,
        "avatar": message.sender.avatar,
        "time": serialize.epoch(message.created_at),
        "sequence": message.seq,
        "cloudCustomData": message.cloud_custom_data,
        "messageForShow": serialize.message_for_show(message.type, message.payload),
    }


def case(kind, sender, conversation_type="C2C", to="bob"):
    """(type, payload the client sends, payload the server stores) for one SDK type.

    Upload types are uploaded first; the client's payload carries junk the server
    must not trust (URLs, sizes, names), since it fills those in from the upload.
    """
    if kind == "text":
        return TEXT, {"text": "héllo 👋"}, {"text": "héllo 👋"}
    if kind == "image":
        image = upload(sender, "image", png(300, 200), "photo.png")
        h, variants = image.uuid.hex, image.variants
        return (
            IMAGE,
            {"uuid": h, "imageFormat": 1, "imageInfoArray": [{"type": 0, "url": "https://evil.example/x.png", "size": 1}]},
            {
                "uuid": h,
                "imageFormat": 3,
                "imageInfoArray": [
                    {"type": 0, "width": 300, "height": 200, "size": variants["original"]["size"], "url": f"/files/{h}/original"},
                    {"type": 1, "width": 198, "height": 132, "size": variants["thumb"]["size"], "url": f"/files/{h}/thumb"},
                    {"type": 2, "width": 300, "height": 200, "size": variants["large"]["size"], "url": f"/files/{h}/large"},
                ],
            },
        )
    if kind == "audio":
        audio = upload(sender, "audio", wav(), "voice.wav")
        h = audio.uuid.hex
        return (
            AUDIO,
            {"uuid": h, "second": 3.4, "url": "https://evil.example/a.mp3", "size": 1},
            {"uuid": h, "url": f"/files/{h}/original", "size": len(wav()), "second": 3, "downloadFlag": 2},
        )
    if kind == "video":
        video = upload(sender, "video", MP4, "clip.mp4")
        snapshot = upload(sender, "image", jpeg(160, 90), "snap.jpg")
        v, s = video.uuid.hex, snapshot.uuid.hex
        return (
            VIDEO,
            {"videoUUID": v, "videoSecond": 12, "snapshotUUID": s, "videoUrl": "https://evil.example/v.mp4", "videoSize": 1},
            {
                "videoUUID": v,
                "videoUrl": f"/files/{v}/original",
                "videoSize": len(MP4),
                "videoSecond": 12,
                "videoFormat": "mp4",
                "snapshotUUID": s,
                "snapshotUrl": f"/files/{s}/large",
                "snapshotWidth": 160,
                "snapshotHeight": 90,
            },
        )
    if kind == "file":
        file = upload(sender, "file", b"%PDF-1.4\nminutes", "minutes.pdf")
        h = file.uuid.hex
        return (
            FILE,
            {"uuid": h, "fileName": "evil.exe", "fileSize": 1},
            {"uuid": h, "fileName": "minutes.pdf", "fileUrl": f"/files/{h}/original?download=1", "fileSize": 16},
        )
    if kind == "custom":
        payload = {"data": '{"businessID":"order","id":7}', "description": "Order #7", "extension": "v1"}
        return CUSTOM, payload, dict(payload)
    if kind == "face":
        return FACE, {"index": 3, "data": "tt00"}, {"index": 3, "data": "tt00"}
    if kind == "location":
        payload = {"description": "Tencent Binhai Tower", "longitude": 113.93, "latitude": 22.54}
        return LOCATION, payload, dict(payload)
    if kind == "merger":
        first = send(sender, to, TEXT, {"text": "first, to be merged"}, conversation_type)
        second = send(sender, to, FACE, {"index": 1, "data": "smile"}, conversation_type)
        cid = conversation_id(conversation_type, to)
        payload = {
            "title": "Chat History",
            "abstractList": ["alice: first, to be merged", "alice: [Emoji]"],
            "compatibleText": "Upgrade to see chat history",
            # In the wrong order on purpose: the server keeps the conversation's order.
            "messageList": [{"ID": second.msg_id, "conversationID": cid}, {"ID": first.msg_id, "conversationID": cid}],
        }
        stored = {
            "title": "Chat History",
            "abstractList": payload["abstractList"],
            "compatibleText": "Upgrade to see chat history",
            "layersOverLimit": False,
            "downloadKey": "",
            "messageList": [snapshot_of(first), snapshot_of(second)],
        }
        return MERGER, payload, stored
    raise AssertionError(kind)


# --- every type, stored and listed -----------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_every_type_is_stored_with_the_servers_payload_and_listed_for_the_peer(media_root, alice, bob, kind):
    msg_type, payload, expected = case(kind, alice)
    message = send(alice, "bob", msg_type, payload)

    stored = Message.objects.get(pk=message.pk)
    assert (stored.type, stored.payload) == (msg_type, expected)
    for_show = FOR_SHOW.get(msg_type, expected.get("text"))
    [listed] = get_message_list(bob, "C2Calice", count=1)["messageList"]
    assert (listed["ID"], listed["type"], listed["payload"], listed["flow"]) == (stored.msg_id, msg_type, expected, "in")
    assert listed["messageForShow"] == for_show
    [conversation] = get_conversation_list(bob)
    assert conversation["lastMessage"]["messageForShow"] == for_show
    assert conversation["lastMessage"]["type"] == msg_type


@pytest.mark.parametrize("kind", ["image", "audio", "video", "file"])
def test_upload_types_refer_to_their_uploads_which_the_peer_may_download(media_root, alice, bob, carol, kind):
    msg_type, payload, expected = case(kind, alice)
    message = send(alice, "bob", msg_type, payload)

    uuids = {u.hex for u in message.attachments.values_list("uuid", flat=True)}
    assert uuids == {v for k, v in expected.items() if k in ("uuid", "videoUUID", "snapshotUUID")}
    url = expected.get("fileUrl") or expected.get("videoUrl") or expected.get("url") or expected["imageInfoArray"][0]["url"]
    bob_client, carol_client = Client(), Client()
    bob_client.force_login(bob)
    carol_client.force_login(carol)
    response = bob_client.get(url)
    assert response.status_code == 200
    response.close()
    assert carol_client.get(url).status_code == 403


def test_message_for_show_of_text_is_the_text(alice, bob):
    send_text(alice, "bob", "just words")
    assert get_conversation_list(bob)[0]["lastMessage"]["messageForShow"] == "just words"


# --- what is refused, with nothing stored ------------------------------------------------------


def _ready(sender, kind):
    data = {"image": png(), "audio": wav(), "video": MP4, "file": b"abc"}[kind]
    return upload(sender, kind, data).uuid.hex


def _pending(sender, kind):
    data = {"image": png(), "audio": wav(), "video": MP4, "file": b"abc"}[kind]
    return upload(sender, kind, data, complete=False).uuid.hex


INVALID = [
    pytest.param(TEXT, {"text": ""}, {}, 10004, id="empty-text"),
    pytest.param(TEXT, {"text": " \n\t"}, {}, 10004, id="blank-text"),
    pytest.param(TEXT, {"text": 5}, {}, 10004, id="text-not-a-string"),
    pytest.param(TEXT, {}, {}, 10004, id="text-missing"),
    pytest.param(TEXT, "hello", {}, 10004, id="payload-not-an-object"),
    pytest.param("TIMNoSuchElem", {"text": "x"}, {}, 10004, id="unknown-type"),
    pytest.param("TIMGroupTipElem", {"operationType": 1, "userIDList": ["bob"]}, {}, 10004, id="a-client-cannot-send-a-tip"),
    pytest.param("TIMGroupSystemNoticeElem", {"operationType": 255}, {}, 10004, id="nor-a-system-notice"),
    pytest.param(CUSTOM, {"data": {"k": 1}}, {}, 10004, id="custom-data-not-a-string"),
    pytest.param(CUSTOM, {"data": "x", "extension": 7}, {}, 10004, id="custom-extension-not-a-string"),
    pytest.param(FACE, {"index": "1", "data": "x"}, {}, 10004, id="face-index-a-string"),
    pytest.param(FACE, {"index": True}, {}, 10004, id="face-index-a-bool"),
    pytest.param(FACE, {"index": 1.5}, {}, 10004, id="face-index-a-float"),
    pytest.param(FACE, {"data": "x"}, {}, 10004, id="face-index-missing"),
    pytest.param(LOCATION, {"longitude": 0, "latitude": 90.01}, {}, 10004, id="latitude-over-90"),
    pytest.param(LOCATION, {"longitude": 0, "latitude": -91}, {}, 10004, id="latitude-under-minus-90"),
    pytest.param(LOCATION, {"longitude": 180.5, "latitude": 0}, {}, 10004, id="longitude-over-180"),
    pytest.param(LOCATION, {"longitude": -181, "latitude": 0}, {}, 10004, id="longitude-under-minus-180"),
    pytest.param(LOCATION, {"longitude": "12.5", "latitude": 0}, {}, 10004, id="longitude-a-string"),
    pytest.param(LOCATION, {"longitude": 0, "latitude": math.nan}, {}, 10004, id="latitude-nan"),
    pytest.param(LOCATION, {"longitude": math.inf, "latitude": 0}, {}, 10004, id="longitude-infinite"),
    pytest.param(LOCATION, {"longitude": 0, "latitude": True}, {}, 10004, id="latitude-a-bool"),
    pytest.param(LOCATION, {"longitude": 0}, {}, 10004, id="latitude-missing"),
    pytest.param(LOCATION, {"longitude": 0, "latitude": 0, "description": 5}, {}, 10004, id="description-not-a-string"),
    pytest.param(TEXT, {"text": "x" * (12 * 1024)}, {}, 80002, id="text-over-12KB"),
    pytest.param(TEXT, {"text": "漢" * 4200}, {}, 80002, id="12KB-counts-bytes-not-characters"),
    pytest.param(TEXT, {"text": "x" * 6000}, {"cloud_custom_data": "y" * 6400}, 80002, id="cloudCustomData-counts"),
    pytest.param(CUSTOM, {"data": "x" * 12300}, {}, 80002, id="custom-over-12KB"),
    pytest.param(TEXT, {"text": "x"}, {"cloud_custom_data": 5}, 10004, id="cloudCustomData-not-a-string"),
    pytest.param(TEXT, {"text": "x"}, {"priority": "Urgent"}, 10004, id="unknown-priority"),
    pytest.param(IMAGE, {}, {}, 2403, id="image-without-uuid"),
    pytest.param(IMAGE, {"uuid": "0" * 32}, {}, 2403, id="image-unknown-upload"),
    pytest.param(IMAGE, {"uuid": "../../etc"}, {}, 2403, id="image-uuid-not-a-uuid"),
    pytest.param(IMAGE, lambda a, b: {"uuid": _ready(b, "image")}, {}, 2403, id="image-someone-elses-upload"),
    pytest.param(IMAGE, lambda a, b: {"uuid": _ready(a, "file")}, {}, 2403, id="image-a-file-upload"),
    pytest.param(IMAGE, lambda a, b: {"uuid": _pending(a, "image")}, {}, 2251, id="image-unfinished"),
    pytest.param(AUDIO, lambda a, b: {"uuid": _pending(a, "audio")}, {}, 2300, id="audio-unfinished"),
    pytest.param(AUDIO, lambda a, b: {"uuid": _ready(a, "audio"), "second": -1}, {}, 10004, id="audio-negative-seconds"),
    pytest.param(VIDEO, lambda a, b: {"videoUUID": _pending(a, "video")}, {}, 2350, id="video-unfinished"),
    pytest.param(VIDEO, lambda a, b: {"videoUUID": _ready(a, "video"), "videoSecond": "7"}, {}, 10004, id="video-seconds-string"),
    pytest.param(
        VIDEO,
        lambda a, b: {"videoUUID": _ready(a, "video"), "snapshotUUID": _pending(a, "image")},
        {},
        2350,
        id="video-unfinished-snapshot",
    ),
    pytest.param(
        VIDEO,
        lambda a, b: {"videoUUID": _ready(a, "video"), "snapshotUUID": _ready(b, "image")},
        {},
        2403,
        id="video-foreign-snapshot",
    ),
    pytest.param(FILE, lambda a, b: {"uuid": _pending(a, "file")}, {}, 2400, id="file-unfinished"),
    pytest.param(FILE, lambda a, b: {"uuid": _ready(b, "file")}, {}, 2403, id="file-someone-elses-upload"),
    pytest.param(MERGER, {"messageList": [], "compatibleText": "x"}, {}, 10004, id="merger-empty"),
    pytest.param(MERGER, lambda a, b: {"messageList": [_ref(a)]}, {}, 10004, id="merger-without-compatibleText"),
    pytest.param(MERGER, {"messageList": ["some-id"], "compatibleText": "x"}, {}, 10004, id="merger-ref-not-an-object"),
    pytest.param(
        MERGER, lambda a, b: {"messageList": [_ref(a)] * 101, "compatibleText": "x"}, {}, 10004, id="merger-over-100-messages"
    ),
    pytest.param(
        MERGER,
        lambda a, b: {"messageList": [_ref(a)], "compatibleText": "x", "abstractList": [1]},
        {},
        10004,
        id="merger-bad-abstract",
    ),
    pytest.param(
        MERGER,
        lambda a, b: {"messageList": [{"ID": "nope", "conversationID": "C2Cbob"}], "compatibleText": "x"},
        {},
        10030,
        id="merger-unknown-message",
    ),
]


def _ref(sender):
    first = Message.objects.filter(sender=sender).order_by("pk").first()
    return {"ID": first.msg_id, "conversationID": "C2Cbob"}


@pytest.mark.parametrize("msg_type, payload, kwargs, code", INVALID)
def test_invalid_messages_are_refused_with_their_code_and_store_nothing(media_root, alice, bob, msg_type, payload, kwargs, code):
    send_text(alice, "bob", "the thread exists")
    if callable(payload):
        payload = payload(alice, bob)
    refused(code, send, alice, "bob", msg_type, payload, root=media_root, **kwargs)


def test_the_12KB_limit_is_inclusive_and_counts_cloud_custom_data(alice, bob):
    overhead = len('{"text":""}')  # rules.body_bytes: compact JSON, as JSON.stringify makes it
    cloud = "c" * 1000
    text = "x" * (12 * 1024 - overhead - len(cloud))
    assert send(alice, "bob", TEXT, {"text": text}, cloud_custom_data=cloud).cloud_custom_data == cloud
    refused(80002, send, alice, "bob", TEXT, {"text": text + "x"}, cloud_custom_data=cloud)


# --- @mentions (createTextAtMessage) -------------------------------------------------------------


def at_info(user, group_id="g1"):
    conversations = {c["conversationID"]: c for c in get_conversation_list(user)}
    return conversations[f"GROUP{group_id}"]["groupAtInfoList"] if f"GROUP{group_id}" in conversations else None


def test_at_message_stores_the_user_list_in_the_message_and_payload(alice, bob, carol):
    make_group(alice, "Public", "g1", members=["bob", "carol"])
    message = send(alice, "g1", TEXT, {"text": "@bob @bob look"}, "GROUP", at_user_list=["bob", "bob", AT_ALL])

    assert message.at_user_list == ["bob", AT_ALL]
    assert message.payload == {"text": "@bob @bob look", "atUserList": ["bob", AT_ALL]}
    [listed] = get_message_list(carol, "GROUPg1", count=1)["messageList"]
    assert listed["atUserList"] == ["bob", AT_ALL]


def test_group_at_info_is_for_the_mentioned_members_until_they_read(alice, bob, carol, dave):
    make_group(alice, "Public", "g1", members=["bob", "carol"])
    at_bob = send(alice, "g1", TEXT, {"text": "@bob"}, "GROUP", at_user_list=["bob"])
    at_all = send(alice, "g1", TEXT, {"text": "@all"}, "GROUP", at_user_list=[AT_ALL])
    at_both = send(alice, "g1", TEXT, {"text": "@all @bob"}, "GROUP", at_user_list=[AT_ALL, "bob"])
    send(alice, "g1", TEXT, {"text": "no mention"}, "GROUP")

    def info(message, at_type):
        return {"messageID": message.msg_id, "messageSequence": message.seq, "atType": at_type, "groupID": "g1"}

    assert at_info(bob) == [info(at_bob, 1), info(at_all, 2), info(at_both, 3)]
    assert at_info(carol) == [info(at_all, 2), info(at_both, 2)]
    assert at_info(alice) == [], "the sender is not reminded of their own mentions"
    assert at_info(dave) is None
    assert get_conversation_profile(bob, "GROUPg1")["groupAtInfoList"] == at_info(bob)

    actions.mark_read(bob, "GROUPg1")
    assert at_info(bob) == []
    assert get_conversation_profile(bob, "GROUPg1")["groupAtInfoList"] == []
    assert at_info(carol) == [info(at_all, 2), info(at_both, 2)], "one member's read leaves the others' reminders"

    later = send(carol, "g1", TEXT, {"text": "@alice @bob"}, "GROUP", at_user_list=["alice", "bob"])
    assert at_info(bob) == [info(later, 1)]
    assert at_info(alice) == [info(later, 1)]
    assert at_info(carol) == [info(at_all, 2), info(at_both, 2)]


def test_mentioning_a_non_member_stores_no_reminder_for_them(alice, bob, dave):
    make_group(alice, "Public", "g1", members=["bob"])
    send(alice, "g1", TEXT, {"text": "@dave"}, "GROUP", at_user_list=["dave", "nobody"])
    assert GroupAtMention.objects.count() == 0
    assert at_info(dave) is None


@pytest.mark.parametrize(
    "conversation_type, to, msg_type, payload, at_user_list",
    [
        pytest.param("C2C", "bob", TEXT, {"text": "@bob"}, ["bob"], id="c2c"),
        pytest.param("GROUP", "g1", FACE, {"index": 1}, ["bob"], id="not-text"),
        pytest.param("GROUP", "g1", TEXT, {"text": "@bob"}, "bob", id="a-string-not-a-list"),
        pytest.param("GROUP", "g1", TEXT, {"text": "@bob"}, ["bob", 7], id="not-user-ids"),
        pytest.param("GROUP", "g1", TEXT, {"text": "@bob"}, ["bob", ""], id="empty-user-id"),
        pytest.param("GROUP", "g1", TEXT, {"text": "@many"}, [f"u{i}" for i in range(101)], id="over-100"),
    ],
)
def test_at_lists_are_only_for_group_text(alice, bob, conversation_type, to, msg_type, payload, at_user_list):
    make_group(alice, "Public", "g1", members=["bob"])
    send_text(alice, "bob", "the thread exists")
    refused(10004, send, alice, to, msg_type, payload, conversation_type, at_user_list=at_user_list)
    assert GroupAtMention.objects.count() == 0


# --- forward (createForwardMessage) ---------------------------------------------------------------


def forward(sender, to, message, source_conversation, conversation_type="C2C", **kwargs):
    ref = {"ID": message.msg_id, "conversationID": source_conversation}
    return actions.send_message(
        sender, conversation_type=conversation_type, to=to, msg_type=None, payload=None, forward=ref, **kwargs
    ).message


def downloads(user, url):
    client = Client()
    client.force_login(user)
    response = client.get(url)
    response.close()
    return response.status_code


@pytest.mark.parametrize("kind", ["text", "image", "video", "file", "custom", "location", "merger"])
def test_forward_copies_type_payload_and_attachments_into_another_conversation(media_root, alice, bob, carol, dave, kind):
    msg_type, payload, expected = case(kind, alice)
    original = send(alice, "bob", msg_type, payload)

    copy = forward(bob, "carol", original, "C2Calice")
    assert (copy.type, copy.payload) == (original.type, original.payload)
    assert copy.sender == bob and copy.thread_id != original.thread_id
    assert set(copy.attachments.all()) == set(original.attachments.all()), "referenced, not copied"
    assert Upload.objects.filter(kind__in=["image", "audio", "video", "file"]).count() == original.attachments.count()
    [received] = get_message_list(carol, "C2Cbob", count=1)["messageList"]
    assert (received["type"], received["payload"], received["from"]) == (msg_type, expected, "bob")
    for upload_row in original.attachments.all():
        url = f"/files/{upload_row.uuid.hex}/original"
        assert downloads(carol, url) == 200, "the forward's recipient may download what it refers to"
        assert downloads(dave, url) == 403


def test_forward_into_a_group_lets_every_member_download(media_root, alice, bob, carol, dave):
    make_group(bob, "Public", "g1", members=["carol", "dave"])
    msg_type, payload, _ = case("image", alice)
    original = send(alice, "bob", msg_type, payload)
    forward(bob, "g1", original, "C2Calice", "GROUP")
    url = original.payload["imageInfoArray"][1]["url"]
    assert downloads(carol, url) == 200 and downloads(dave, url) == 200


def test_a_forwarded_at_message_mentions_nobody(alice, bob, carol):
    make_group(alice, "Public", "g1", members=["bob", "carol"])
    original = send(alice, "g1", TEXT, {"text": "@bob"}, "GROUP", at_user_list=["bob"])
    copy = forward(carol, "g1", original, "GROUPg1", "GROUP")
    assert copy.payload == {"text": "@bob"} and copy.at_user_list == []
    assert GroupAtMention.objects.filter(message=copy).count() == 0


def test_forwarding_a_message_you_cannot_see_is_10030_and_stores_nothing(alice, bob, carol, dave):
    secret = send_text(alice, "bob", "between us")
    send_text(carol, "dave", "carol's thread exists")
    # Carol is not in alice and bob's conversation, whatever conversation she names.
    refused(10030, forward, carol, "dave", secret, "C2Calice")
    refused(10030, forward, carol, "dave", secret, "C2Cbob")
    refused(10030, forward, carol, "dave", secret, "C2Cdave")
    # Bob may see it, but not under another conversation's ID.
    send_text(bob, "carol", "bob's other thread")
    refused(10030, forward, bob, "dave", secret, "C2Ccarol")
    refused(10030, actions.send_message, bob, conversation_type="C2C", to="dave", msg_type=None, payload=None,
            forward={"ID": "no-such-id", "conversationID": "C2Calice"})  # fmt: skip


def test_forwarding_group_history_from_before_you_joined_is_10030(alice, bob, carol, dave):
    make_group(alice, "Public", "g1", members=["bob"])
    before = send(alice, "g1", TEXT, {"text": "before carol"}, "GROUP")
    actions.join_group(carol, "g1")
    send_text(carol, "bob", "thread")
    refused(10030, forward, carol, "bob", before, "GROUPg1")
    # A non-member is refused at the group: 10007.
    send_text(dave, "bob", "thread")
    refused(10007, forward, dave, "bob", before, "GROUPg1")


def test_a_group_tip_is_not_forwardable_2453(alice, bob, carol):
    make_group(alice, "Public", "g1", members=["bob"])
    tip = Message.objects.get(type="TIMGroupTipElem")
    send_text(bob, "carol", "thread")
    error = refused(2453, forward, bob, "carol", tip, "GROUPg1")
    assert "tip" in error.message
    refused(
        2453,
        send,
        bob,
        "carol",
        MERGER,
        {"messageList": [{"ID": tip.msg_id, "conversationID": "GROUPg1"}], "compatibleText": "x"},
    )


def test_a_recalled_message_is_not_forwardable_2453(alice, bob, carol):
    original = send_text(alice, "bob", "oops")
    Message.objects.filter(pk=original.pk).update(is_revoked=True)  # arrange: no revoke action yet
    send_text(bob, "carol", "thread")
    refused(2453, forward, bob, "carol", original, "C2Calice")


@pytest.mark.parametrize("ref", ["an-id", {"ID": 5, "conversationID": "C2Calice"}, {"ID": "x"}])
def test_a_malformed_forward_is_refused(alice, bob, carol, ref):
    send_text(alice, "bob", "hi")
    code = 10004 if not isinstance(ref, dict) else (10030 if "conversationID" in ref else 2503)
    refused(code, actions.send_message, bob, conversation_type="C2C", to="alice", msg_type=None, payload=None, forward=ref)


# --- merger (createMergerMessage / downloadMergerMessage) -------------------------------------------


def test_a_small_merger_holds_the_messages_inline_with_their_attachments(media_root, alice, bob, carol, dave):
    msg_type, payload, _ = case("image", alice)
    image = send(alice, "bob", msg_type, payload)
    text = send_text(bob, "alice", "nice picture")
    merged = send(
        alice,
        "carol",
        MERGER,
        {
            "title": "alice and bob",
            "compatibleText": "upgrade",
            "messageList": [{"ID": text.msg_id, "conversationID": "C2Cbob"}, {"ID": image.msg_id, "conversationID": "C2Cbob"}],
        },
    )

    assert merged.payload["downloadKey"] == ""
    assert merged.payload["messageList"] == [snapshot_of(image), snapshot_of(text)]
    assert merged.payload["abstractList"] == []
    assert downloaded_merger_list(merged) == merged.payload["messageList"]
    [received] = get_message_list(carol, "C2Calice", count=1)["messageList"]
    assert received["messageForShow"] == "[Chat History]" and received["payload"] == merged.payload
    url = image.payload["imageInfoArray"][0]["url"]
    assert downloads(carol, url) == 200, "a merged message's attachments are the merger's too"
    assert downloads(dave, url) == 403
    assert Upload.objects.filter(kind="merger").count() == 0


def long_texts(sender, to, n=5, size=2000, conversation_type="C2C"):
    return [send(sender, to, TEXT, {"text": f"{i}" + "x" * size}, conversation_type) for i in range(n)]


def test_a_large_merger_is_stored_as_an_object_and_downloaded(media_root, alice, bob, carol):
    texts = long_texts(alice, "bob")
    refs = [{"ID": m.msg_id, "conversationID": "C2Cbob"} for m in texts]
    merged = send(alice, "carol", MERGER, {"title": "t", "compatibleText": "upgrade", "messageList": refs})

    key = merged.payload["downloadKey"]
    assert key and merged.payload["messageList"] == []
    stored = Upload.objects.get(kind="merger")
    assert stored.uuid.hex == key and stored.status == "ready" and stored.owner == alice
    assert stored in merged.attachments.all()
    assert stored_files(media_root) == [stored.key]
    assert downloaded_merger_list(merged) == [snapshot_of(m) for m in texts]
    # The stored message stays small: far under the 12 KB body limit.
    assert len(str(merged.payload)) < 1024


def test_a_merger_just_over_8KB_of_json_goes_to_storage_and_just_under_stays_inline(media_root, alice, bob, carol):
    """The switch is at MERGER_INLINE_BYTES (8 KB) of the JSON of the list."""
    import json

    def size(message):
        return len(json.dumps([snapshot_of(message)], ensure_ascii=False).encode())

    # One-digit sequences and IDs of 7 characters (+ k): the JSON differs only by the
    # text, which it holds twice (payload.text and messageForShow), and the k.
    probe = send_text(alice, "bob", "x", msg_id="m-probe")
    base = size(probe) - 2

    def of_size(target, name):
        k = (target - base) % 2
        return send_text(alice, "bob", "y" * ((target - base - k) // 2), msg_id=name + "k" * k)

    fits, over = of_size(8 * 1024, "m-fit-1"), of_size(8 * 1024 + 1, "m-over1")
    assert (size(fits), size(over)) == (8 * 1024, 8 * 1024 + 1)
    for message, inline in ((fits, True), (over, False)):
        merged = send(
            alice, "carol", MERGER, {"compatibleText": "c", "messageList": [{"ID": message.msg_id, "conversationID": "C2Cbob"}]}
        )
        assert (merged.payload["downloadKey"] == "") is inline


def test_a_large_merger_that_fails_later_leaves_no_object(media_root, alice, bob, carol):
    refs = [{"ID": m.msg_id, "conversationID": "C2Cbob"} for m in long_texts(alice, "bob")]
    send_text(alice, "carol", "thread")
    refused(
        80002,
        send,
        alice,
        "carol",
        MERGER,
        {"compatibleText": "c", "messageList": refs},
        cloud_custom_data="d" * 13000,
        root=media_root,
    )


def test_merging_a_message_you_cannot_see_is_10030_and_stores_nothing(media_root, alice, bob, carol, dave):
    mine = send_text(carol, "dave", "carol's own")
    secret = send_text(alice, "bob", "between us")
    refs = [{"ID": mine.msg_id, "conversationID": "C2Cdave"}, {"ID": secret.msg_id, "conversationID": "C2Calice"}]
    refused(10030, send, carol, "dave", MERGER, {"compatibleText": "c", "messageList": refs}, root=media_root)


def test_a_merger_of_a_merger_keeps_the_inner_object_downloadable(media_root, alice, bob, carol, dave):
    refs = [{"ID": m.msg_id, "conversationID": "C2Cbob"} for m in long_texts(alice, "bob")]
    inner = send(alice, "carol", MERGER, {"compatibleText": "c", "messageList": refs})
    outer = send(
        carol, "dave", MERGER, {"compatibleText": "c", "messageList": [{"ID": inner.msg_id, "conversationID": "C2Calice"}]}
    )
    assert outer.payload["messageList"][0]["payload"]["downloadKey"] == inner.payload["downloadKey"]
    inner_object = Upload.objects.get(uuid=inner.payload["downloadKey"])
    assert inner_object in outer.attachments.all()
    assert downloads(dave, f"/files/{inner_object.uuid.hex}/original") == 200


def test_a_nested_stored_merger_opens_through_the_outer_message(media_root, alice, bob, carol, dave):
    """dave never saw the inner message, but may open its stored list through the outer one."""
    texts = long_texts(alice, "bob")
    refs = [{"ID": m.msg_id, "conversationID": "C2Cbob"} for m in texts]
    inner = send(alice, "carol", MERGER, {"compatibleText": "c", "messageList": refs})
    outer = send(
        carol, "dave", MERGER, {"compatibleText": "c", "messageList": [{"ID": inner.msg_id, "conversationID": "C2Calice"}]}
    )

    listed = downloaded_merger_list(outer, inner.payload["downloadKey"])

    assert listed == [snapshot_of(m) for m in texts]
    unrelated = send(alice, "bob", MERGER, {"compatibleText": "c", "messageList": refs})
    refused(2451, downloaded_merger_list, outer, unrelated.payload["downloadKey"])


# --- over the WebSocket ---------------------------------------------------------------------------


async def collect_until(tab, name, predicate, limit=10):
    for _ in range(limit):
        data = await tab.wait_event(name)
        if predicate(data):
            return data
    raise AssertionError(f"no {name} matched")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("conversation_type", ["C2C", "GROUP"])
@pytest.mark.parametrize("kind", KINDS)
async def test_every_type_reaches_the_peer_as_stored(open_tab, media_root, alice, bob, carol, kind, conversation_type):
    to = "bob" if conversation_type == "C2C" else "g1"
    if conversation_type == "GROUP":
        await db(make_group)(alice, "Public", "g1", members=["bob", "carol"])
    msg_type, payload, expected = await db(case)(kind, alice, conversation_type, to)
    a, b = await open_tab(alice), await open_tab(bob)
    receivers = [b] + ([await open_tab(carol)] if conversation_type == "GROUP" else [])

    message = {"to": to, "conversationType": conversation_type, "type": msg_type, "payload": payload, "ID": "client-1"}
    sent = (await a.request("sendMessage", message=message))["message"]
    for_show = FOR_SHOW.get(msg_type, expected.get("text"))
    assert (sent["ID"], sent["type"], sent["payload"], sent["flow"]) == ("client-1", msg_type, expected, "out")
    assert sent["messageForShow"] == for_show
    stored = await db(Message.objects.get)(msg_id="client-1")
    assert stored.payload == expected

    for tab in receivers:
        [received] = await tab.wait_event("MESSAGE_RECEIVED")
        assert received["conversationID"] == ("C2Calice" if conversation_type == "C2C" else "GROUPg1")
        assert (received["ID"], received["type"], received["payload"], received["flow"]) == ("client-1", msg_type, expected, "in")
        assert (received["from"], received["messageForShow"], received["sequence"]) == ("alice", for_show, stored.seq)
        [patch] = await tab.wait_event("CONVERSATION_LIST_UPDATED")
        assert patch["lastMessage"]["messageForShow"] == for_show
        assert (patch["lastMessage"]["type"], patch["lastMessage"]["payload"]) == (msg_type, expected)


@pytest.mark.django_db(transaction=True)
async def test_a_refused_message_over_the_socket_reaches_nobody(open_tab, media_root, alice, bob):
    a, b = await open_tab(alice), await open_tab(bob)
    await a.send_text("bob", "hello")
    await b.wait_event("MESSAGE_RECEIVED")
    await b.drain()
    pending = await db(_pending)(alice, "image")
    cases = [
        (80002, {"type": TEXT, "payload": {"text": "x" * 6000}, "cloudCustomData": "y" * 6400}),
        (10004, {"type": LOCATION, "payload": {"longitude": 200, "latitude": 0}}),
        (10004, {"type": "TIMGroupTipElem", "payload": {"operationType": 1}}),
        (2403, {"type": IMAGE, "payload": {"uuid": "0" * 32}}),
        (2251, {"type": IMAGE, "payload": {"uuid": pending}}),
        (10004, {"type": TEXT, "payload": {"text": "@bob"}, "atUserList": ["bob"]}),
    ]
    for code, message in cases:
        await a.expect_error(code, "sendMessage", message={"to": "bob", "conversationType": "C2C", **message})
    assert await db(Message.objects.count)() == 1
    assert await b.drain() == []


@pytest.mark.django_db(transaction=True)
async def test_at_messages_over_the_socket_remind_only_the_mentioned_until_read(open_tab, alice, bob, carol, dave):
    await db(make_group)(alice, "Public", "g1", members=["bob", "carol", "dave"])
    a1, a2 = await open_tab(alice), await open_tab(alice)
    b, c, d = await open_tab(bob), await open_tab(carol), await open_tab(dave)

    at_bob = await a1.send_text("g1", "@bob look", "GROUP", atUserList=["bob"])
    assert at_bob["atUserList"] == ["bob"] and at_bob["payload"]["atUserList"] == ["bob"]
    [patch] = await b.wait_event("CONVERSATION_LIST_UPDATED")
    assert patch["groupAtInfoAdded"] == {
        "messageID": at_bob["ID"],
        "messageSequence": at_bob["sequence"],
        "atType": 1,
        "groupID": "g1",
    }
    for tab in (a2, c, d):
        [patch] = await tab.wait_event("CONVERSATION_LIST_UPDATED")
        assert "groupAtInfoAdded" not in patch

    at_all = await a1.send_text("g1", "@all @bob", "GROUP", atUserList=[AT_ALL, "bob"])
    [patch] = await b.wait_event("CONVERSATION_LIST_UPDATED")
    assert patch["groupAtInfoAdded"]["atType"] == 3
    for tab in (c, d):
        [patch] = await tab.wait_event("CONVERSATION_LIST_UPDATED")
        assert patch["groupAtInfoAdded"] == {
            "messageID": at_all["ID"],
            "messageSequence": at_all["sequence"],
            "atType": 2,
            "groupID": "g1",
        }
        [received] = await tab.wait_event("MESSAGE_RECEIVED")  # the first one
        [received] = await tab.wait_event("MESSAGE_RECEIVED")
        assert received["atUserList"] == [AT_ALL, "bob"]
    [patch] = await a2.wait_event("CONVERSATION_LIST_UPDATED")
    assert "groupAtInfoAdded" not in patch, "the sender's own tabs get no reminder"

    async def listed(tab):
        conversations = (await tab.request("getConversationList"))["conversationList"]
        return next(x for x in conversations if x["conversationID"] == "GROUPg1")["groupAtInfoList"]

    assert [i["atType"] for i in await listed(b)] == [1, 3]
    assert [i["atType"] for i in await listed(c)] == [2]
    assert await listed(a1) == []

    await b.request("setMessageRead", conversationID="GROUPg1")
    cleared = await collect_until(b, "CONVERSATION_LIST_UPDATED", lambda data: "groupAtInfoList" in data[0])
    [read_patch] = cleared
    assert read_patch == {
        "conversationID": "GROUPg1",
        "unreadCount": 0,
        "groupAtInfoList": [],
        "seenCursor": read_patch["seenCursor"],
    }
    assert await listed(b) == []
    assert [i["atType"] for i in await listed(c)] == [2]
    profile = (await b.request("getConversationProfile", conversationID="GROUPg1"))["conversation"]
    assert profile["groupAtInfoList"] == []

    await a1.expect_error(10004, "sendMessage", message={"to": "bob", "conversationType": "C2C", "type": TEXT,
                                                        "payload": {"text": "@bob"}, "atUserList": ["bob"]})  # fmt: skip


@pytest.mark.django_db(transaction=True)
async def test_forward_over_the_socket(open_tab, media_root, alice, bob, carol, dave):
    msg_type, payload, expected = await db(case)("file", alice)
    a, b, c = await open_tab(alice), await open_tab(bob), await open_tab(carol)
    original = (
        await a.request("sendMessage", message={"to": "bob", "conversationType": "C2C", "type": msg_type, "payload": payload})
    )["message"]
    await b.wait_event("MESSAGE_RECEIVED")

    ref = {"ID": original["ID"], "conversationID": "C2Calice"}
    copy = (await b.request("sendMessage", message={"to": "carol", "conversationType": "C2C", "forward": ref}))["message"]
    assert (copy["type"], copy["payload"], copy["from"], copy["conversationID"]) == (FILE, expected, "bob", "C2Ccarol")
    [received] = await c.wait_event("MESSAGE_RECEIVED")
    assert (received["ID"], received["type"], received["payload"]) == (copy["ID"], FILE, expected)
    assert await db(downloads)(carol, expected["fileUrl"]) == 200
    assert await db(downloads)(dave, expected["fileUrl"]) == 403

    await c.expect_error(10030, "sendMessage", message={"to": "dave", "conversationType": "C2C", "forward": ref})
    await db(make_group)(alice, "Public", "g1", members=["bob"])
    tip = await db(Message.objects.get)(type="TIMGroupTipElem")
    tip_ref = {"ID": tip.msg_id, "conversationID": "GROUPg1"}
    await b.expect_error(2453, "sendMessage", message={"to": "carol", "conversationType": "C2C", "forward": tip_ref})
    assert await db(Message.objects.filter(thread__kind="C2C").count)() == 2


@pytest.mark.django_db(transaction=True)
async def test_download_merger_message_over_the_socket(open_tab, media_root, alice, bob, carol, dave):
    texts = await db(long_texts)(alice, "bob")
    await db(make_group)(carol, "Public", "g1", members=["alice"])
    a, c, d = await open_tab(alice), await open_tab(carol), await open_tab(dave)
    refs = [{"ID": m.msg_id, "conversationID": "C2Cbob"} for m in texts]
    expected = await db(lambda: [snapshot_of(m) for m in Message.objects.filter(pk__in=[t.pk for t in texts]).order_by("seq")])()

    merger = {"type": MERGER, "payload": {"title": "t", "compatibleText": "c", "messageList": refs}}
    to_carol = (await a.request("sendMessage", message={"to": "carol", "conversationType": "C2C", **merger}))["message"]
    to_group = (await a.request("sendMessage", message={"to": "g1", "conversationType": "GROUP", **merger}))["message"]
    for sent in (to_carol, to_group):
        assert sent["payload"]["downloadKey"] and sent["payload"]["messageList"] == []
        assert sent["messageForShow"] == "[Chat History]"
    [received] = await c.wait_event("MESSAGE_RECEIVED")
    assert received["payload"]["downloadKey"] == to_carol["payload"]["downloadKey"]

    for tab, conversation in ((c, "C2Calice"), (c, "GROUPg1"), (a, "C2Ccarol"), (a, "GROUPg1")):
        message_id = to_carol["ID"] if conversation.startswith("C2C") else to_group["ID"]
        data = await tab.request("downloadMergerMessage", message={"ID": message_id, "conversationID": conversation})
        assert data == {"messageList": expected}

    await d.expect_error(10030, "downloadMergerMessage", message={"ID": to_carol["ID"], "conversationID": "C2Calice"})
    await d.expect_error(10030, "downloadMergerMessage", message={"ID": to_carol["ID"], "conversationID": "C2Ccarol"})
    await d.expect_error(10007, "downloadMergerMessage", message={"ID": to_group["ID"], "conversationID": "GROUPg1"})
    plain = await c.send_text("alice", "not a merger")
    await c.expect_error(2450, "downloadMergerMessage", message={"ID": plain["ID"], "conversationID": "C2Calice"})

    # Merging what you cannot see: 10030, nothing sent.
    before = await db(Message.objects.count)()
    await d.expect_error(10030, "sendMessage", message={"to": "alice", "conversationType": "C2C", **merger})
    assert await db(Message.objects.count)() == before
