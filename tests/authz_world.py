"""The cast of the authorization matrix (tests/test_authorization_matrix.py): one owner,
a Public group (the target of most rows) and a Work group, their messages and an uploaded image, and one user
for each actor the matrix asks about. Arranged through the actions only.

Every user name carries a suffix, so that a fresh world can be built next to a used
one in the same test (a row that is allowed may change the world; the next row then
gets a new one) without emptying the database.
"""

from dataclasses import dataclass, field

from messaging import actions
from messaging.actions import avatars
from messaging.actions.system_notices import system_thread_key
from messaging.models import Message, User
from tests.media_helpers import png, upload

PASSWORD = "pw-authz-1"

# The actors. The first three have no working session: the socket is closed at
# connect (4001) or kicked, and HTTP treats them as anonymous.
ANONYMOUS = "anonymous"
BANNED = "banned"  # was a member of the Work group; now inactive
LOGGED_OUT = "logged_out"  # a member whose login session was logged out
NON_MEMBER = "non_member"  # logged in, in no group of the owner's
REMOVED = "removed"  # was in the Work group, removed by the owner
MUTED = "muted"  # a member of the Work group, muted for an hour
OTHERS = "others_object"  # a plain member acting on the owner's message, upload, card or request
SESSIONLESS = (ANONYMOUS, BANNED, LOGGED_OUT)
SIGNED_IN = (NON_MEMBER, REMOVED, MUTED, OTHERS)
ACTORS = SESSIONLESS + SIGNED_IN


@dataclass
class World:
    suffix: str
    users: dict = field(default_factory=dict)  # role -> User
    me: str = ""  # the userID of the actor of the row being run

    def uid(self, role):
        return self.users[role].username

    @property
    def owner(self):
        return self.uid("owner")

    @property
    def member(self):
        return self.uid("member")

    @property
    def outsider(self):
        """A user nobody in the world knows, to add or invite."""
        return self.uid("spare")

    @property
    def team_conv(self):
        return "GROUP" + self.team

    @property
    def group_message(self):
        return {"ID": self.team_msg_id, "conversationID": self.team_conv}

    @property
    def receipt_message(self):
        return {"ID": self.receipt_msg_id, "conversationID": self.team_conv}

    @property
    def private_message(self):
        """The owner's C2C message to the muted member, named as a third user would try."""
        return {"ID": self.c2c_msg_id, "conversationID": "C2C" + self.owner}


# Who plays which role; the actor roles map onto ACTORS.
ROLE_OF_ACTOR = {
    BANNED: "banned",
    LOGGED_OUT: "logged_out",
    NON_MEMBER: "stranger",
    REMOVED: "removed",
    MUTED: "muted",
    OTHERS: "member",
}


def build_world(suffix: str) -> World:
    world = World(suffix)
    roles = ("owner", "member", "muted", "removed", "banned", "logged_out", "stranger", "spare", "applicant")
    for role in roles:
        world.users[role] = actions.create_user(f"{role[:5]}{suffix}", password=PASSWORD, nick=f"{role.title()} {suffix}")
    owner, u = world.users["owner"], world.users
    world.team = f"team{suffix}"  # Public, joined by application: the target of most rows
    world.work = f"work{suffix}"  # Work: its members' only
    for group_id, kind, members in (
        (world.team, "Public", ("member", "muted", "removed", "banned", "logged_out")),
        (world.work, "Private", ("member", "muted", "removed")),
    ):
        name = group_id.removesuffix(suffix).title()
        actions.create_group(
            owner,
            group_type=kind,
            name=name,
            group_id=group_id,
            introduction=f"{name.lower()} introduction",
            notification=f"{name.lower()} notification",
            join_option="NeedPermission" if kind == "Public" else None,
            member_user_ids=[u[role].username for role in members],
        )
    actions.update_group_profile(owner, world.team, custom_fields=[{"key": "secret", "value": "team custom"}])
    actions.mute_member(owner, world.team, u["muted"].username, 3600)
    image = upload(owner, "image", png(), name="secret.png")
    world.upload_uuid = image.uuid.hex
    world.avatar_path = avatars.make_avatar(owner, image.uuid.hex)["avatar"]
    world.pending_upload_uuid = upload(owner, "file", b"half a file", name="draft.txt", complete=False).uuid.hex

    def send(to, msg_type, payload, conversation_type="GROUP", **options):
        return actions.send_message(
            owner, conversation_type=conversation_type, to=to, msg_type=msg_type, payload=payload, **options
        ).message.msg_id

    world.image_msg_id = send(world.team, "TIMImageElem", {"uuid": image.uuid.hex})
    world.team_msg_id = send(world.team, "TIMTextElem", {"text": "team secret"})
    world.receipt_msg_id = send(world.team, "TIMTextElem", {"text": "please read"}, need_read_receipt=True)
    # The owner's own reaction: nobody else may take it back (removeMessageReaction).
    actions.add_message_reaction(owner, "GROUP" + world.team, world.team_msg_id, "👍")
    world.c2c_msg_id = send(u["muted"].username, "TIMTextElem", {"text": "c2c secret"}, conversation_type="C2C")
    # A friend request to the owner, and an application to join the Public group: the
    # owner's to handle, nobody else's.
    actions.add_friend(u["applicant"], owner.username, wording="let me in")
    actions.join_group(u["applicant"], world.team, apply_message="let me in")
    world.application_notice_id = (
        Message.objects.filter(thread__key=system_thread_key(owner.pk)).order_by("-seq").values_list("msg_id", flat=True).first()
    )
    # The owner's conversation group: a name only the owner's ops find (groups are per user).
    world.conversation_group = f"Owner's {suffix}"
    actions.create_conversation_group(owner, world.conversation_group, [world.team_conv])
    actions.delete_members(owner, world.team, [u["removed"].username])
    actions.delete_members(owner, world.work, [u["removed"].username])
    actions.set_user_active(u["banned"], False)
    world.users = {role: User.objects.get(pk=user.pk) for role, user in world.users.items()}
    return world
