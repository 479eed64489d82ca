from django.conf import settings
from django.db import models

from messaging import rules


class Group(models.Model):
    """A group chat. ``type`` holds the SDK's type values (TIM.TYPES.GRP_*)."""

    class Type(models.TextChoices):
        WORK = "Private", "Work"
        PUBLIC = "Public", "Public"
        MEETING = "ChatRoom", "Meeting"
        AVCHATROOM = "AVChatRoom", "AVChatRoom"

    class JoinOption(models.TextChoices):
        FREE_ACCESS = "FreeAccess"
        NEED_PERMISSION = "NeedPermission"
        DISABLE_APPLY = "DisableApply"

    group_id = models.CharField(max_length=48, unique=True)
    name = models.CharField(max_length=30)
    type = models.CharField(max_length=16, choices=Type.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_groups"
    )
    introduction = models.CharField(max_length=240, blank=True)
    notification = models.CharField(max_length=300, blank=True)
    avatar = models.CharField(max_length=100, blank=True)
    join_option = models.CharField(max_length=16, choices=JoinOption.choices, default=JoinOption.FREE_ACCESS)
    mute_all = models.BooleanField(default=False)
    # groupCustomField as {key: value} (rules.MAX_GROUP_CUSTOM_FIELDS keys at most)
    custom_fields = models.JSONField(default=dict, blank=True)
    member_count = models.PositiveIntegerField(default=0)
    thread = models.OneToOneField("messaging.Thread", on_delete=models.PROTECT, related_name="group")
    created_at = models.DateTimeField(auto_now_add=True)
    # Set by dismissGroup: the group is gone for every op (10010), and its members'
    # conversations stay, with their history, readable.
    dismissed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.name} ({self.group_id})"

    @property
    def conversation_id(self):
        return rules.group_conversation_id(self.group_id)

    @property
    def counts_unread(self):
        """Meeting groups and AVChatRooms have no unread count, as in the SDK."""
        return self.type in (self.Type.WORK, self.Type.PUBLIC)


class GroupMember(models.Model):
    class Role(models.TextChoices):
        OWNER = "Owner"
        ADMIN = "Admin"
        MEMBER = "Member"

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="members")
    # PROTECT: a membership is group state (member_count, the member list, a tip when
    # it ends), so deleting a user row that is still a member is refused; remove the
    # user through the group actions first (delete_members, quit_group).
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="group_memberships")
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.MEMBER)
    name_card = models.CharField(max_length=50, blank=True)
    joined_at = models.DateTimeField(auto_now_add=True)
    muted_until = models.DateTimeField(null=True, blank=True)
    # memberCustomField as {key: value} (rules.MAX_MEMBER_CUSTOM_FIELDS keys at most)
    custom_fields = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="unique_group_member")]
        indexes = [models.Index(fields=["user", "group"])]

    def __str__(self):
        return f"{self.user_id} in {self.group_id} ({self.role})"
