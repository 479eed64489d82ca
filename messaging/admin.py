"""The moderators' admin. Read-mostly: chat state changes go through messaging.actions."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from messaging.models import Conversation, Group, GroupMember, Message, User


@admin.register(User)
class ChatUserAdmin(UserAdmin):
    fieldsets = UserAdmin.fieldsets + (("Chat profile", {"fields": ("nick", "avatar")}),)
    list_display = ("username", "nick", "email", "is_active", "is_staff")


class GroupMemberInline(admin.TabularInline):
    model = GroupMember
    extra = 0
    readonly_fields = ("user", "role", "joined_at")
    can_delete = False


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ("group_id", "name", "type", "owner", "member_count", "created_at")
    search_fields = ("group_id", "name")
    readonly_fields = ("group_id", "type", "owner", "member_count", "thread", "created_at")
    inlines = [GroupMemberInline]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("msg_id", "thread", "seq", "sender", "type", "created_at")
    list_filter = ("type",)
    readonly_fields = [f.name for f in Message._meta.fields]
    list_select_related = ("thread", "sender")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("user", "conversation_id", "unread_count", "last_read_seq", "is_hidden", "is_pinned")
    list_select_related = ("user",)
    readonly_fields = [f.name for f in Conversation._meta.fields]

    def has_add_permission(self, request):
        return False
