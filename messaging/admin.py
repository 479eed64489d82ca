"""The moderators' admin. Read-mostly: chat state changes go through messaging.actions."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from messaging import actions as chat_actions
from messaging.models import Conversation, Group, GroupMember, Message, User


@admin.register(User)
class ChatUserAdmin(UserAdmin):
    fieldsets = UserAdmin.fieldsets + (("Chat profile", {"fields": ("nick", "avatar")}),)
    list_display = ("username", "nick", "email", "is_active", "is_staff")
    actions = ["ban_users", "unban_users"]

    def save_model(self, request, obj, form, change):
        """Profile fields save as usual; a change of ``is_active`` is a ban or an
        unban and goes through the action, which also closes the user's sockets."""
        ban_change = change and "is_active" in form.changed_data
        wanted = obj.is_active
        if ban_change:
            obj.is_active = not wanted
        super().save_model(request, obj, form, change)
        if ban_change:
            chat_actions.set_user_active(obj, wanted)

    @admin.action(description="Ban selected users (log them out everywhere)")
    def ban_users(self, request, queryset):
        count = sum(chat_actions.set_user_active(user, False) for user in queryset)
        self.message_user(request, f"Banned {count} user(s).")

    @admin.action(description="Unban selected users")
    def unban_users(self, request, queryset):
        count = sum(chat_actions.set_user_active(user, True) for user in queryset)
        self.message_user(request, f"Unbanned {count} user(s).")


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
