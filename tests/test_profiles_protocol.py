"""Profiles over the socket (docs/PROTOCOL.md §5.17, §5.18, §5.40, §6.8, §10.4):
updateMyProfile field by field, each refusal with its code and nothing written,
PROFILE_UPDATED to the right tabs only, the events applied to a peer's old state equal
a fresh fetch, getUserProfile's 100-ID limit and its fixed query count, avatars only
from this site (users and groups), and the square avatar made from an upload."""

import io

import pytest
from channels.db import database_sync_to_async
from PIL import Image

from messaging import actions
from messaging.actions import avatars
from messaging.queries.users import get_user_profiles
from tests.chat_helpers import db_snapshot, fast_passwords, make_group, send_text  # noqa: F401
from tests.conftest import make_user
from tests.media_helpers import jpeg, png, upload, use_filesystem_storage
from tests.test_group_admin_events import apply_events, state
from tests.ws import events_named

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def media_root(settings, tmp_path):
    return use_filesystem_storage(settings, tmp_path)


async def refused(tab, code, op, **args):
    """``op`` fails with ``code`` and writes nothing."""
    before = await database_sync_to_async(db_snapshot)()
    error = await tab.expect_error(code, op, **args)
    assert await database_sync_to_async(db_snapshot)() == before
    return error


# --- updateMyProfile: each field -----------------------------------------------------------


@pytest.mark.parametrize(
    "args,expected",
    [
        ({"nick": "Ally"}, {"nick": "Ally"}),
        ({"nick": "n" * 64}, {"nick": "n" * 64}),
        ({"nick": "签" * 60}, {"nick": "签" * 60}),
        ({"avatar": "/media/avatars/0123.png"}, {"avatar": "/media/avatars/0123.png"}),
        ({"avatar": "/static/chat/default.png"}, {"avatar": "/static/chat/default.png"}),
        ({"selfSignature": "Out till Monday"}, {"selfSignature": "Out till Monday"}),
        ({"selfSignature": "签" * 166}, {"selfSignature": "签" * 166}),  # 498 bytes
        ({"gender": "Gender_Type_Female"}, {"gender": "Gender_Type_Female"}),
        ({"gender": "Gender_Type_Male"}, {"gender": "Gender_Type_Male"}),
        ({"birthday": 19990412}, {"birthday": 19990412}),
        ({"birthday": 2**32 - 1}, {"birthday": 2**32 - 1}),
        ({"location": "Berlin"}, {"location": "Berlin"}),
        ({"location": "l" * 16}, {"location": "l" * 16}),
        ({"allowType": "AllowType_Type_AllowAny"}, {"allowType": "AllowType_Type_AllowAny"}),
        ({"allowType": "AllowType_Type_DenyAny"}, {"allowType": "AllowType_Type_DenyAny"}),
        (
            {"profileCustomField": [{"key": "Tag_Profile_Custom_Team", "value": "Ops"}]},
            {"profileCustomField": [{"key": "Tag_Profile_Custom_Team", "value": "Ops"}]},
        ),
    ],
)
async def test_update_my_profile_sets_each_field(open_tab, alice, args, expected):
    a = await open_tab(alice)
    reply = await a.request("updateMyProfile", **args)
    assert reply.items() >= expected.items()
    assert await a.request("getMyProfile") == reply
    assert (await a.request("getUserProfile", userIDList=["alice"])) == [reply]


async def test_a_new_profile_has_the_vendors_defaults(open_tab, alice):
    a = await open_tab(alice)
    assert await a.request("getMyProfile") == {
        "userID": "alice",
        "nick": "Alice",
        "avatar": "",
        "gender": "Gender_Type_Unknown",
        "birthday": 0,
        "location": "",
        "selfSignature": "",
        "allowType": "AllowType_Type_NeedConfirm",
        "profileCustomField": [],
    }


async def test_custom_fields_are_merged_and_an_empty_value_removes_a_key(open_tab, alice):
    a = await open_tab(alice)
    await a.request(
        "updateMyProfile",
        profileCustomField=[{"key": "Tag_Profile_Custom_Team", "value": "Ops"}, {"key": "Tag_Profile_Custom_Desk", "value": "4"}],
    )
    reply = await a.request(
        "updateMyProfile",
        profileCustomField=[{"key": "Tag_Profile_Custom_Desk", "value": ""}, {"key": "Tag_Profile_Custom_Floor", "value": "2"}],
    )
    assert reply["profileCustomField"] == [
        {"key": "Tag_Profile_Custom_Floor", "value": "2"},
        {"key": "Tag_Profile_Custom_Team", "value": "Ops"},
    ]


# --- updateMyProfile: each refusal, nothing written ---------------------------------------------


@pytest.mark.parametrize(
    "code,args",
    [
        (10004, {}),
        (10004, {"language": 1}),  # the vendor's, not stored here: refused, not dropped
        (10004, {"role": 2}),
        (10004, {"nick": 5}),
        (40601, {"nick": "n" * 65}),
        (40601, {"selfSignature": "s" * 501}),
        (40601, {"selfSignature": "签" * 167}),  # 501 bytes
        (40601, {"location": "l" * 17}),
        (40601, {"location": "柏林柏林柏林"}),  # 18 bytes
        (40605, {"gender": "Gender_Type_Robot"}),
        (40605, {"allowType": "AllowType_Type_Maybe"}),
        (40605, {"birthday": -1}),
        (40605, {"birthday": 2**32}),
        (40605, {"birthday": "19990412"}),  # a bad value of a field with its own code gets that code
        (10004, {"avatar": "https://tracker.example/pixel.gif"}),
        (10004, {"avatar": "//tracker.example/pixel.gif"}),
        (10004, {"avatar": "javascript:alert(1)"}),
        (10004, {"avatar": "/media/../../etc/passwd"}),
        (10004, {"avatar": "/media/%2e%2e/api/uploads/"}),  # a ".." once the browser decodes it
        (10004, {"avatar": "/elsewhere/a.png"}),
        (40601, {"avatar": "/media/" + "a" * 494}),
        (10004, {"profileCustomField": [{"key": "Tag_Profile_IM_Nick", "value": "x"}]}),
        (10004, {"profileCustomField": [{"key": "Tag_Profile_Custom_TooLongKey", "value": "x"}]}),
        (10004, {"profileCustomField": [{"key": "Tag_Profile_Custom_A-B", "value": "x"}]}),
        (10004, {"profileCustomField": [{"key": "Tag_Profile_Custom_a\n", "value": "x"}]}),
        (10004, {"profileCustomField": [{"key": "Tag_Profile_Custom_A", "value": 1}]}),
        (10004, {"profileCustomField": [{"key": "Tag_Profile_Custom_A", "value": "x", "extra": 1}]}),
        (40601, {"profileCustomField": [{"key": "Tag_Profile_Custom_A", "value": "v" * 501}]}),
        (10004, {"profileCustomField": [{"key": f"Tag_Profile_Custom_K{i}", "value": "x"} for i in range(21)]}),
    ],
)
async def test_bad_profile_updates_are_refused_with_the_vendors_code_and_write_nothing(open_tab, alice, bob, code, args):
    await database_sync_to_async(send_text)(bob, "alice", "hi")
    a, b = await open_tab(alice), await open_tab(bob)
    await refused(a, code, "updateMyProfile", **args)
    assert events_named(await b.drain(), "PROFILE_UPDATED") == []


async def test_more_than_20_custom_fields_in_all_is_10004(open_tab, alice):
    a = await open_tab(alice)
    await a.request("updateMyProfile", profileCustomField=[{"key": f"Tag_Profile_Custom_K{i}", "value": "x"} for i in range(20)])
    await refused(a, 10004, "updateMyProfile", profileCustomField=[{"key": "Tag_Profile_Custom_More", "value": "x"}])


# --- PROFILE_UPDATED: who gets it, and replaying it equals a refetch ----------------------------


async def test_profile_updated_reaches_own_tabs_peers_and_co_members_not_strangers(open_tab, alice, bob, carol, dave):
    def arrange():
        send_text(bob, "alice", "hi")  # bob: a C2C peer
        make_group(carol, group_type="Public", members=["alice"])  # carol: a co-member

    await database_sync_to_async(arrange)()
    a1, a2, b, c, d = (
        await open_tab(alice),
        await open_tab(alice),
        await open_tab(bob),
        await open_tab(carol),
        await open_tab(dave),
    )

    profile = await a1.request("updateMyProfile", nick="Ally", location="Berlin")

    for tab in (a1, a2, b, c):
        assert events_named(await tab.drain(), "PROFILE_UPDATED") == [[profile]]
    assert await d.drain() == []


async def test_a_change_of_signature_only_patches_no_conversation(open_tab, alice, bob):
    await database_sync_to_async(send_text)(bob, "alice", "hi")
    a, b = await open_tab(alice), await open_tab(bob)
    await a.request("updateMyProfile", selfSignature="busy")
    events = await b.drain()
    assert [e["event"] for e in events] == ["PROFILE_UPDATED"]


async def test_an_unchanged_profile_sends_nothing(open_tab, alice, bob):
    await database_sync_to_async(send_text)(bob, "alice", "hi")
    a, b = await open_tab(alice), await open_tab(bob)
    before = await database_sync_to_async(db_snapshot)()
    await a.request("updateMyProfile", nick="Alice", gender="Gender_Type_Unknown")
    assert await database_sync_to_async(db_snapshot)() == before
    assert await b.drain() == []


async def test_profile_events_applied_to_a_peers_old_state_equal_a_fresh_fetch(open_tab, alice, bob, carol):
    def arrange():
        send_text(alice, "bob", "hi")
        make_group(carol, group_type="Public", members=["alice", "bob"])
        actions.send_message(alice, conversation_type="GROUP", to="g1", msg_type="TIMTextElem", payload={"text": "in group"})

    await database_sync_to_async(arrange)()
    a, b = await open_tab(alice), await open_tab(bob)
    old = await state(b)
    old_profiles = await b.request("getUserProfile", userIDList=["alice"])
    c2c_history = (await b.request("getMessageList", conversationID="C2Calice"))["messageList"]

    await a.request("updateMyProfile", nick="Ally", avatar="/media/avatars/ally.png", selfSignature="new me")

    events = await b.drain()
    replayed = apply_events(old, events)
    profiles = {p["userID"]: p for batch in events_named(events, "PROFILE_UPDATED") for p in batch}
    # The SDK also shows the new name and avatar on the sender's messages already on screen.
    for message in replayed["history"] + c2c_history:
        if message["from"] in profiles:
            message.update({k: profiles[message["from"]][k] for k in ("nick", "avatar")})
    # ... and the sender's name in each conversation's lastMessage (the list's preview).
    for conversation in replayed["conversations"]:
        last = conversation.get("lastMessage") or {}
        if last.get("fromAccount") in profiles:
            last["nick"] = profiles[last["fromAccount"]]["nick"]
    assert replayed == await state(b)
    assert c2c_history == (await b.request("getMessageList", conversationID="C2Calice"))["messageList"]
    assert [profiles[p["userID"]] for p in old_profiles] == await b.request("getUserProfile", userIDList=["alice"])


# --- getUserProfile --------------------------------------------------------------------------


async def test_get_user_profile_takes_at_most_100_ids(open_tab, alice):
    a = await open_tab(alice)
    assert len(await a.request("getUserProfile", userIDList=["alice"] * 100)) == 1
    await a.expect_error(10004, "getUserProfile", userIDList=[f"u{i}" for i in range(101)])


async def test_get_user_profile_leaves_out_unknown_and_banned_users(open_tab, alice, bob, carol):
    await database_sync_to_async(actions.set_user_active)(carol, False)
    a = await open_tab(alice)
    profiles = await a.request("getUserProfile", userIDList=["bob", "nobody", "carol", "bob"])
    assert [p["userID"] for p in profiles] == ["bob"]


@pytest.mark.parametrize("n", [1, 100])
def test_get_user_profile_is_one_query(django_assert_num_queries, n):
    ids = [make_user(f"u{i}").username for i in range(n)]
    with django_assert_num_queries(1):
        assert len(get_user_profiles(ids)) == n


# --- avatars: only this site's, for users and groups ------------------------------------------------


@pytest.mark.parametrize("url", ["https://tracker.example/p.gif", "//tracker.example/p.gif", "data:image/png;base64,AAAA"])
async def test_a_group_avatar_on_another_host_is_refused(open_tab, alice, url):
    a = await open_tab(alice)
    await refused(a, 10004, "createGroup", type="Public", name="Team", groupID="g1", avatar=url)
    await a.request("createGroup", type="Public", name="Team", groupID="g1", avatar="/static/chat/g.png")
    await refused(a, 10004, "updateGroupProfile", groupID="g1", avatar=url)
    assert (await a.request("updateGroupProfile", groupID="g1", avatar="/media/avatars/ab.png"))["group"]["avatar"] == (
        "/media/avatars/ab.png"
    )


def test_an_s3_storage_base_url_is_accepted_and_other_buckets_are_not(settings):
    settings.STORAGES = {
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {"bucket_name": "chat", "endpoint_url": "https://s3.example.com"},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    from messaging import storage
    from messaging.actions.users import check_avatar_url
    from messaging.errors import ChatError

    assert storage.is_s3()
    check_avatar_url("https://s3.example.com/chat/avatars/ab.png")
    with pytest.raises(ChatError) as caught:
        check_avatar_url("https://s3.example.com/other-bucket/ab.png")
    assert caught.value.code == 10004


# --- avatars: the square crop ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "data,content_type,fmt",
    [(jpeg(640, 360), "image/jpeg", "JPEG"), (png(300, 900), "image/jpeg", "JPEG")],
)
def test_an_avatar_is_a_centred_square_of_256_pixels(media_root, alice, data, content_type, fmt):
    uploaded = upload(alice, "image", data, name="me.jpg")
    made = avatars.make_avatar(alice, uploaded.uuid.hex)
    assert (made["width"], made["height"], made["contentType"]) == (256, 256, content_type)
    assert made["avatar"].startswith("/media/avatars/")
    stored = media_root / made["avatar"].removeprefix("/media/")
    image = Image.open(io.BytesIO(stored.read_bytes()))
    assert (image.format, image.size) == (fmt, (256, 256))


def test_a_transparent_image_makes_a_png_avatar_and_the_crop_is_centred(media_root, alice):
    # 300 × 100: red | green | blue thirds, transparent-capable; the centre third is green.
    source = Image.new("RGBA", (300, 100), (255, 0, 0, 255))
    source.paste((0, 255, 0, 255), (100, 0, 200, 100))
    source.paste((0, 0, 255, 128), (200, 0, 300, 100))
    out = io.BytesIO()
    source.save(out, "PNG")
    uploaded = upload(alice, "image", out.getvalue(), name="wide.png")
    made = avatars.make_avatar(alice, uploaded.uuid.hex)
    image = Image.open(io.BytesIO((media_root / made["avatar"].removeprefix("/media/")).read_bytes()))
    assert (image.format, image.size, made["contentType"]) == ("PNG", (256, 256), "image/png")
    assert image.convert("RGBA").getpixel((128, 128))[:3] == (0, 255, 0)


def test_avatar_over_http_then_set_with_update_my_profile_and_served_to_others(media_root, client, alice, bob):
    client.force_login(alice)
    uploaded = upload(alice, "image", jpeg(400, 200), name="me.jpg")
    response = client.post(f"/api/uploads/{uploaded.uuid.hex}/avatar")
    assert response.status_code == 201, response.content
    url = response.json()["avatar"]
    actions.update_user_profile(alice, avatar=url)

    client.force_login(bob)
    served = client.get(url)
    assert served.status_code == 200
    assert served["Content-Type"] == "image/jpeg"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert Image.open(io.BytesIO(b"".join(served.streaming_content))).size == (256, 256)


def test_an_avatar_from_someone_elses_upload_or_a_file_is_refused(media_root, client, alice, bob):
    theirs = upload(bob, "image", jpeg(), name="bob.jpg")
    not_image = upload(alice, "file", b"just text", name="notes.txt")
    client.force_login(alice)
    assert client.post(f"/api/uploads/{theirs.uuid.hex}/avatar").json()["code"] == 2403
    assert client.post(f"/api/uploads/{not_image.uuid.hex}/avatar").json()["code"] == 2403
    assert client.get("/media/avatars/../../settings.py").status_code == 404
    client.logout()
    assert client.get("/media/avatars/" + "0" * 32 + ".png").status_code == 302  # to the login page


# --- password change (Django's auth views, the site's templates) ------------------------------


def test_password_change_uses_djangos_views_with_the_sites_look(client, alice):
    client.force_login(alice)
    page = client.get("/accounts/password_change/")
    assert page.status_code == 200
    assert b"auth-card" in page.content and b"Change your password" in page.content

    wrong = client.post(
        "/accounts/password_change/",
        {"old_password": "not-it", "new_password1": "n3w-secret-pw", "new_password2": "n3w-secret-pw"},
    )
    assert wrong.status_code == 200 and b"password-change-error" in wrong.content

    done = client.post(
        "/accounts/password_change/",
        {"old_password": "pw-alice", "new_password1": "n3w-secret-pw", "new_password2": "n3w-secret-pw"},
        follow=True,
    )
    assert done.redirect_chain[-1][0] == "/accounts/password_change/done/"
    assert b"Password changed" in done.content
    alice.refresh_from_db()
    assert alice.check_password("n3w-secret-pw")


def test_password_change_needs_a_login(client):
    assert client.get("/accounts/password_change/").status_code == 302


async def test_bidi_controls_are_dropped_from_nicknames(open_tab, alice):
    """A right-to-left override in a nick reversed what followed it in every list."""
    a = await open_tab(alice)
    reply = await a.request("updateMyProfile", nick="\u202eecila\u202c Smith")
    assert reply["nick"] == "ecila Smith"
    assert (await database_sync_to_async(actions.create_user)("eve", nick="\u2067Eve\u2069")).nick == "Eve"
