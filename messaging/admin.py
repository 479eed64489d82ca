"""The moderators' admin: a transport like the WebSocket, not a second write path.

Every change of chat state made here goes through ``messaging.actions``, so that it
is checked, written in one transaction, audited, and announced (events, group tips)
exactly as the same change made from a chat tab. The Django admin is TIM's "app admin":
it passes ``by_admin=True`` and has owner rights in every group.

- Users: search by userID, nick or e-mail; nick and avatar (``update_user_profile``), a
  new user (``create_user``), ban and unban (``set_user_active``: the sockets close),
  "Reset password" (``reset_password``: a random password shown once, the sockets
  close); the user's page lists their groups and last 20 messages
  (``queries.moderation``, one query each).
- Groups: profile and mute-all (``update_group_profile``, ``set_mute_all``), the member
  inline's role, mute and "Remove" (``set_member_role``, ``mute_member``,
  ``delete_members``), "Transfer ownership to" (``change_group_owner``), the "Dismiss"
  action (``dismiss_group``).
- Messages: search by text, sender, message ID or conversation ID, filters by type,
  kind, state and date, attachments as thumbnails; bulk "Recall" and "Delete for
  everyone" after a confirmation that asks for the reason
  (``actions.message_moderation``: any message, C2C or group, at any age).
- Run-time settings (``update_chat_settings``) and the audit log (read-only) of every
  change above: who, what, which target, why, when (``record_audit``, written by the
  actions in the change's transaction).

Who may do what is Django's permissions, held by the "Moderators" group
(``actions.moderation.MODERATOR_PERMISSIONS``, made on every ``migrate``): the message
actions need ``messaging.moderate_message``, the user and group actions ``change`` on
their model; a plain staff user sees nothing of the chat. A moderator who is not a
superuser adds no accounts, sees staff accounts read-only and nobody's password hash,
staff, superuser, group or permission fields (``access.access_moderated_user`` holds
the actions to the same rule), and cannot use Django's set-password form (a superuser's use of it closes the user's
sockets too).

Nothing is hard-deleted here (a deleted message would leave a hole in its thread's
sequence, a deleted membership a wrong member count, a deleted user other people's
history): ban a user instead; "Delete for everyone" keeps the message's row.
Passwords, staff flags and permissions stay Django's: they are auth, not chat state
(saved by Django, and a change of them by anyone here is in the audit log too).

Server API tokens (docs/API.md) are made here (``create_api_token``: the secret is shown
once, in the message after saving, and only its hash is kept) and revoked here
(``revoke_api_token``); a token is never edited.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from messaging import actions as chat_actions
from messaging import conf, rules, runtime, serialize
from messaging.access import MODERATE_MESSAGE_PERMISSION, VIEW_MESSAGE_PERMISSION, VIEW_UPLOAD_PERMISSION
from messaging.actions.api_tokens import SCOPES
from messaging.actions.group_admin import MAX_MUTE_SECONDS, PROFILE_FIELDS
from messaging.actions.moderation import chat_settings as chat_settings_row
from messaging.actions.moderation import check_banned_words
from messaging.actions.users import check_avatar_url, check_user_id
from messaging.api.uploads import serve_upload
from messaging.errors import ChatError
from messaging.models import (
    ApiToken,
    AuditLogEntry,
    Block,
    ChatSettings,
    Conversation,
    Friend,
    FriendApplication,
    Group,
    GroupApplication,
    GroupMember,
    Message,
    MessageEdit,
    MessageReport,
    Thread,
    Upload,
    User,
)
from messaging.queries import moderation as moderation_queries
from messaging.queries.reports import message_context

# Fields of the user's row that are Django's auth, saved by Django as usual.
AUTH_FIELDS = ("first_name", "last_name", "email", "is_staff", "is_superuser", "last_login", "date_joined")
PROFILE = ("nick", "avatar")


class NoHardDelete:
    """Chat rows are never hard-deleted from the admin (see the module docstring)."""

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyChatAdmin(NoHardDelete, admin.ModelAdmin):
    """Shown to moderators; changed only by the actions of their own transports."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- users -------------------------------------------------------------------------------


class ChatUserChangeForm(UserChangeForm):
    def clean(self):
        cleaned = super().clean()
        _check_avatar_field(self, cleaned)
        return cleaned


class ChatUserCreationForm(AdminUserCreationForm):
    def clean(self):
        cleaned = super().clean()
        _check_avatar_field(self, cleaned)
        return cleaned

    def clean_username(self):
        username = super().clean_username()
        try:
            check_user_id(username)
        except ChatError as error:
            raise forms.ValidationError(error.message) from None
        return username


# The auth fields only a superuser changes: a moderator who could set them could make
# themselves (or anyone) staff, superuser, or give any permission.
SUPERUSER_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions", "last_login", "date_joined")


@admin.register(User)
class ChatUserAdmin(NoHardDelete, UserAdmin):
    """Users: search by userID, nick or e-mail; ban, unban and reset the password (bulk
    actions); nick and avatar (``update_user_profile``); the user's groups and last
    messages on their page (``queries.moderation``). Every change is audited. A moderator
    (not a superuser) sees staff accounts read-only and the auth flags of everyone
    read-only (``access.access_moderated_user`` says the same to the actions)."""

    add_form = ChatUserCreationForm
    form = ChatUserChangeForm
    change_form_template = "admin/messaging/user/change_form.html"
    fieldsets = UserAdmin.fieldsets + (("Chat profile", {"fields": PROFILE}),)
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", *PROFILE, "usable_password", "password1", "password2")}),
    )
    list_display = ("username", "nick", "email", "is_active", "is_staff")
    search_fields = ("username", "nick", "email")
    actions = ["ban_users", "unban_users", "reset_passwords"]

    def get_readonly_fields(self, request, obj=None):
        # The username is the SDK's userID: other people's conversation IDs name it.
        if obj is None:
            return ()
        return ("username",) if request.user.is_superuser else ("username", *SUPERUSER_FIELDS)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or request.user.is_superuser:
            return fieldsets
        # No password hash and no set-password button: a moderator resets passwords with the
        # audited "Reset password" action of the user list.
        return [(name, {**options, "fields": [f for f in options["fields"] if f != "password"]}) for name, options in fieldsets]

    def has_change_permission(self, request, obj=None):
        if obj is not None and (obj.is_staff or obj.is_superuser) and not request.user.is_superuser:
            return False  # a staff account: a superuser's to change
        return super().has_change_permission(request, obj)

    def has_add_permission(self, request):
        # A new account can be made staff only by a superuser; moderators moderate.
        return request.user.is_superuser and super().has_add_permission(request)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        user = self.get_object(request, object_id)
        if user is not None:
            extra_context = {
                **(extra_context or {}),
                "chat_groups": moderation_queries.user_groups(user),
                "recent_messages": moderation_queries.recent_messages(user),
                "recent_limit": moderation_queries.RECENT_MESSAGES,
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        if not change:
            self._create(obj, form)
            return
        changed = set(form.changed_data)
        auth_changes = [name for name in AUTH_FIELDS if name in changed]
        if auth_changes:
            # Django's own fields, saved by Django; the record of who changed them is ours (the
            # admin's change view runs in one transaction: the entry commits with the change).
            _save_auth_fields(obj, auth_changes)
            chat_actions.record_audit(request.user, "update_account", "user", obj.username, details={"fields": auth_changes})
        profile = {name: form.cleaned_data[name] for name in PROFILE if name in changed}
        if profile:
            chat_actions.update_user_profile(obj, moderator=request.user, **profile)
        if "is_active" in changed:
            # A ban or an unban: the action also closes the user's sockets.
            chat_actions.set_user_active(obj, form.cleaned_data["is_active"], moderator=request.user)

    def user_change_password(self, request, id, form_url=""):
        """Django's set-password form, for superusers only (a moderator resets passwords
        with "Reset password", which is audited); a change made here also closes the
        user's open sockets, as ``password_changed`` does for the user's own change."""
        if not request.user.is_superuser:
            raise PermissionDenied
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            chat_actions.password_changed(self.get_object(request, id), moderator=request.user)
        return response

    def _create(self, obj, form):
        """The add form: the user is made by ``create_user``; ``obj`` becomes that row."""
        usable = form.cleaned_data.get("set_usable_password", True)
        created = chat_actions.create_user(
            form.cleaned_data["username"],
            password=form.cleaned_data.get("password1") if usable else None,
            nick=form.cleaned_data.get("nick", ""),
            avatar=form.cleaned_data.get("avatar", ""),
        )
        obj.pk, obj.password, obj.date_joined = created.pk, created.password, created.date_joined
        obj._state.adding, obj._state.db = False, created._state.db

    @admin.action(description=_("Ban selected users (log them out everywhere)"), permissions=["change"])
    def ban_users(self, request, queryset):
        count = _each(self, request, queryset, lambda user: chat_actions.set_user_active(user, False, moderator=request.user))
        self.message_user(request, gettext("Banned %(count)s user(s).") % {"count": count})

    @admin.action(description=_("Unban selected users"), permissions=["change"])
    def unban_users(self, request, queryset):
        count = _each(self, request, queryset, lambda user: chat_actions.set_user_active(user, True, moderator=request.user))
        self.message_user(request, gettext("Unbanned %(count)s user(s).") % {"count": count})

    @admin.action(description=_("Reset the password of selected users (log them out everywhere)"), permissions=["change"])
    def reset_passwords(self, request, queryset):
        """A new random password each (``reset_password``), shown once on the page this
        answers with, never stored in clear nor put in a cookie (the admin's messages)."""
        reset = []
        _each(self, request, queryset, lambda user: reset.append((user, chat_actions.reset_password(request.user, user))))
        context = {**self.admin_site.each_context(request), "title": _("New passwords"), "opts": self.opts, "reset": reset}
        response = TemplateResponse(request, "admin/messaging/user/reset_passwords.html", context)
        response["Cache-Control"] = "no-store"
        return response


def not_changed(error: ChatError, row=None) -> str:
    """The moderator's words for a refusal: the SDK's message and code (English, as on the wire)."""
    if row is None:
        return gettext("Not changed: %(message)s (%(code)s)") % {"message": error.message, "code": error.code}
    return gettext("Not changed: %(row)s: %(message)s (%(code)s)") % {"row": row, "message": error.message, "code": error.code}


def _each(model_admin, request, queryset, action) -> int:
    """Run ``action`` for each selected row; a refusal (ChatError) is shown to the
    moderator and the others go on. Returns how many changed something."""
    done = 0
    for row in queryset:
        try:
            result = action(row)
        except ChatError as error:
            model_admin.message_user(request, not_changed(error, row), level=messages.ERROR)
            continue
        done += result is None or bool(result)
    return done


def _save_auth_fields(user: User, fields):
    """Save Django's auth fields of a user (email, names, staff flags, dates) and no
    other column: the chat profile and ``is_active`` go through the actions."""
    assert set(fields) <= set(AUTH_FIELDS), fields
    if fields:
        user.save(update_fields=fields)


# --- groups ------------------------------------------------------------------------------

MUTE_CHOICES = [
    ("", "—"),
    ("0", "Unmute"),
    ("600", "Mute 10 minutes"),
    ("3600", "Mute 1 hour"),
    ("86400", "Mute 1 day"),
    ("604800", "Mute 7 days"),
    ("2592000", "Mute 30 days"),
]


class GroupAdminForm(forms.ModelForm):
    """The profile limits are the action's (UTF-8 bytes, as the SDK counts them)."""

    transfer_to = forms.CharField(
        required=False,
        max_length=32,
        label="Transfer ownership to",
        help_text="The userID of a member (changeGroupOwner as the app admin: tip 6 with the new ownerID).",
    )

    class Meta:
        model = Group
        fields = ("name", "introduction", "notification", "avatar", "mute_all")

    def clean(self):
        cleaned = super().clean()
        for field, (_kind, limit) in PROFILE_FIELDS.items():
            value = cleaned.get(field)
            if isinstance(value, str) and len(value.encode()) > limit:
                self.add_error(field, f"At most {limit} bytes (UTF-8).")
        _check_avatar_field(self, cleaned)
        return cleaned


def _check_avatar_field(form, cleaned):
    """The avatar rule of the actions (this site's images only), as a form error."""
    value = cleaned.get("avatar")
    if isinstance(value, str) and value:
        try:
            check_avatar_url(value)
        except ChatError as error:
            form.add_error("avatar", error.message)


class GroupMemberForm(forms.ModelForm):
    """A member's row: the role (Admin/Member) and a mute, applied by the actions."""

    mute = forms.ChoiceField(choices=MUTE_CHOICES, required=False, label="Mute")
    remove = forms.BooleanField(required=False, label="Remove", help_text="deleteGroupMember as the app admin")

    class Meta:
        model = GroupMember
        fields = ("role",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        member = self.instance
        if member.pk and member.role == GroupMember.Role.OWNER:
            self.fields["role"].disabled = True
            self.fields["mute"].disabled = True
            self.fields["remove"].disabled = True  # transfer the group first
        else:
            self.fields["role"].choices = [(r, r) for r in (GroupMember.Role.ADMIN, GroupMember.Role.MEMBER)]
        if member.pk and member.group.type == Group.Type.WORK:
            self.fields["role"].disabled = True
            self.fields["mute"].disabled = True
            self.fields["role"].help_text = "A Work group has no admins and no mutes."

    def clean_mute(self):
        value = self.cleaned_data.get("mute")
        if value in ("", None):
            return None
        seconds = int(value)
        if not 0 <= seconds <= MAX_MUTE_SECONDS:
            raise forms.ValidationError("Not a mute duration.")
        return seconds


class GroupMemberInline(admin.TabularInline):
    model = GroupMember
    form = GroupMemberForm
    extra = 0
    fields = ("user", "role", "mute", "muted_until", "joined_at", "remove")
    readonly_fields = ("user", "muted_until", "joined_at")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "group")


@admin.register(Group)
class GroupAdmin(NoHardDelete, admin.ModelAdmin):
    form = GroupAdminForm
    list_display = ("group_id", "name", "type", "owner", "member_count", "mute_all", "created_at", "dismissed_at")
    search_fields = ("group_id", "name")
    list_filter = ("type", "mute_all", ("dismissed_at", admin.EmptyFieldListFilter))
    list_select_related = ("owner",)
    actions = ["dismiss_groups"]
    fields = (
        "group_id",
        "type",
        "owner",
        "transfer_to",
        "member_count",
        "name",
        "introduction",
        "notification",
        "avatar",
        "mute_all",
        "join_option",
        "thread",
        "created_at",
        "dismissed_at",
    )
    readonly_fields = ("group_id", "type", "owner", "member_count", "join_option", "thread", "created_at", "dismissed_at")
    inlines = [GroupMemberInline]

    def has_add_permission(self, request):
        return False  # groups are created by users (createGroup)

    def save_model(self, request, obj, form, change):
        """The profile through ``update_group_profile`` (tip 6 with the changed fields),
        mute-all through ``set_mute_all``: as the app admin."""
        changed = set(form.changed_data)
        profile = {field: form.cleaned_data[field] for field in PROFILE_FIELDS if field in changed}
        if profile:
            self._run(request, chat_actions.update_group_profile, request.user, obj.group_id, **profile, by_admin=True)
        if "mute_all" in changed:
            mute = form.cleaned_data["mute_all"]
            self._run(request, chat_actions.set_mute_all, request.user, obj.group_id, mute, by_admin=True)
        new_owner = (form.cleaned_data.get("transfer_to") or "").strip()
        if new_owner:
            self._run(request, chat_actions.change_group_owner, request.user, obj.group_id, new_owner, by_admin=True)

    def save_formset(self, request, form, formset, change):
        """Members' roles and mutes through ``set_member_role`` and ``mute_member``; the
        ticked "Remove" rows in one ``delete_members`` (one tip naming them all)."""
        if formset.model is not GroupMember:
            raise NotImplementedError("only the member inline is editable")
        # What formset.save() would have recorded, for the admin's change message.
        formset.new_objects, formset.deleted_objects = [], []
        formset.changed_objects = [(f.instance, f.changed_data) for f in formset.forms if f.changed_data]
        removed = [f.instance.user.username for f in formset.forms if f.cleaned_data.get("remove")]
        if removed:
            group_id = form.instance.group_id
            self._run(request, chat_actions.delete_members, request.user, group_id, removed, by_admin=True)
        for member_form in formset.forms:
            member = member_form.instance
            group_id, user_id = member.group.group_id, member.user.username
            if user_id in removed:
                continue
            if "role" in member_form.changed_data:
                role = member_form.cleaned_data["role"]
                self._run(request, chat_actions.set_member_role, request.user, group_id, user_id, role, by_admin=True)
            seconds = member_form.cleaned_data.get("mute")
            if seconds is not None:
                self._run(request, chat_actions.mute_member, request.user, group_id, user_id, seconds, by_admin=True)

    @admin.action(description=_("Dismiss selected groups (as the app admin)"), permissions=["change"])
    def dismiss_groups(self, request, queryset):
        """``dismiss_group`` with the app admin's rights: the only way a Work group is
        dismissed (TIM.md 6.1). Members keep the conversation and its history."""
        for group in queryset:
            self._run(request, chat_actions.dismiss_group, request.user, group.group_id, by_admin=True)

    def _run(self, request, action, *args, **kwargs):
        """Run one action; a refusal is shown to the moderator, the other changes stand."""
        try:
            action(*args, **kwargs)
        except ChatError as error:
            self.message_user(request, not_changed(error), level=messages.ERROR)


# --- messages: read-only, recalled or deleted by moderators; conversations, uploads ----------


class TypedInFilter(admin.SimpleListFilter):
    """A filter set by its URL parameter (a link, or typed), shown only while it is set: a
    list of every user or conversation would not fit the sidebar."""

    def lookups(self, request, model_admin):
        value = self.value()
        return [(value, value)] if value else []

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(self.matching(value)) if value else queryset


class SenderFilter(TypedInFilter):
    """``?sender=<userID>``: one user's messages (the user's page links here)."""

    title = "sender"
    parameter_name = "sender"

    def matching(self, user_id):
        return Q(sender__username=user_id)


class ConversationFilter(TypedInFilter):
    """``?conversation=GROUP<groupID>``: a group's messages; ``C2C<userID>``: every one-to-one
    message that user sent or received (typed in the search box, it filters the same)."""

    title = "conversation"
    parameter_name = "conversation"

    def matching(self, conversation_id):
        return conversation_filter(conversation_id)


def conversation_filter(conversation_id):
    """The messages of a conversation ID (``GROUP<id>``, ``C2C<user>``, ``@TIM#SYSTEM``); none
    for a term that is not one."""
    target = rules.parse_conversation_id(conversation_id)
    if target is None:
        return Q(pk__in=[])
    if target.kind == Thread.Kind.GROUP:
        return Q(thread__group__group_id=target.target)
    if target.kind == Thread.Kind.C2C:
        party = Q(thread__user_low__username=target.target) | Q(thread__user_high__username=target.target)
        return Q(thread__kind=Thread.Kind.C2C) & party
    return Q(thread__kind=Thread.Kind.SYSTEM)


class TypeFilter(admin.SimpleListFilter):
    """The SDK's message types, from the rules: no DISTINCT over every message to list them."""

    title = "type"
    parameter_name = "type"

    def lookups(self, request, model_admin):
        return [(t, t) for t in (*rules.SENDABLE_TYPES, rules.GROUP_TIP, rules.GROUP_SYSTEM_NOTICE)]

    def queryset(self, request, queryset):
        return queryset.filter(type=self.value()) if self.value() else queryset


class RecalledFilter(admin.BooleanFieldListFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = "recalled"


class DeletedFilter(admin.SimpleListFilter):
    title = "deleted by a moderator"
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(deleted_at__isnull=self.value() == "no")
        return queryset


class ModerationForm(forms.Form):
    reason = forms.CharField(required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))


class MessageEditInline(admin.TabularInline):
    """The versions of a message that its sender's edits replaced (modifyMessage), oldest
    first: for moderators only, read-only (clients never see them)."""

    model = MessageEdit
    verbose_name = "previous version"
    verbose_name_plural = "previous versions (edits by the sender)"
    extra = 0
    fields = ("version", "text", "payload", "cloud_custom_data", "replaced_at")
    readonly_fields = fields
    can_delete = False

    @admin.display(description=_("text"))
    def text(self, edit):
        return edit.payload.get("text") or edit.payload.get("data") or ""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        # Whoever may open the message's page sees what it said before.
        return request.user.has_perm("messaging.view_message")


@admin.register(Message)
class MessageAdmin(ReadOnlyChatAdmin):
    """Messages, read-only, newest first: search by text, userID or nick of the sender,
    message ID, group ID, or a conversation ID (``GROUP<id>``, ``C2C<user>``); filters by type,
    conversation kind, recall and deletion, date (``created_at__gte``/``__lt``). The page is
    a fixed number of queries, none of them over every message but the page's COUNT. Attachments are shown as thumbnails
    (images) or links, which moderators may open (``access_upload_for_download``).

    Bulk "Recall" and "Delete for everyone" (``actions.message_moderation``) ask for a
    reason first (kept in the audit log); both need ``messaging.moderate_message``."""

    list_display = ("sent", "conversation", "sender", "kind", "preview", "files", "state")
    list_display_links = ("sent",)
    list_filter = (
        TypeFilter,
        ("thread__kind", admin.ChoicesFieldListFilter),
        ("is_revoked", RecalledFilter),
        DeletedFilter,
        ("created_at", admin.DateFieldListFilter),
        SenderFilter,
        ConversationFilter,
    )
    search_fields = ("msg_id", "payload__text", "sender__username", "sender__nick", "=thread__group__group_id")
    search_help_text = "Text, sender (userID or nick), message ID, group ID, or a conversation ID: GROUP<groupID>, C2C<userID>."
    # Dates by the list filter (today, 7 days, month, year; or ?created_at__gte=...&
    # created_at__lt=...), not date_hierarchy: its year/month/day links cost a DISTINCT
    # over every message on each page.
    ordering = ("-created_at", "-pk")
    readonly_fields = ["conversation", "files", "state", *(f.name for f in Message._meta.fields)]
    list_select_related = ("thread", "thread__group", "thread__user_low", "thread__user_high", "sender", "revoker")
    show_full_result_count = False  # one COUNT for the page, not a second over every message
    actions = ["recall_messages", "delete_messages_for_everyone"]
    inlines = [MessageEditInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("attachments")

    def get_search_results(self, request, queryset, search_term):
        """A conversation ID alone filters by that conversation; anything else searches."""
        term = search_term.strip()
        if term.startswith((rules.GROUP, rules.C2C)) and " " not in term and rules.parse_conversation_id(term):
            return queryset.filter(conversation_filter(term)), False
        return super().get_search_results(request, queryset, search_term)

    def has_moderate_permission(self, request):
        return request.user.has_perm(MODERATE_MESSAGE_PERMISSION)

    @admin.display(description=_("sent"), ordering="created_at")
    def sent(self, message):
        return timezone.localtime(message.created_at).strftime("%Y-%m-%d %H:%M")

    @admin.display(description=_("type"), ordering="type")
    def kind(self, message):
        """The SDK's type without its ``TIM…Elem`` wrapping: ``Text``, ``Image``, ``GroupTip``."""
        return message.type.removeprefix("TIM").removesuffix("Elem")

    @admin.display(description=_("conversation"))
    def conversation(self, message):
        return moderation_queries.conversation_label(message)

    @admin.display(description=_("content"))
    def preview(self, message):
        return moderation_queries.preview(message)

    @admin.display(description=_("state"))
    def state(self, message):
        return moderation_queries.state(message)

    @admin.display(description=_("files"))
    def files(self, message):
        """Thumbnails of images (the 198 px variant), links to other files."""
        shown = []
        for upload in message.attachments.all():  # prefetched
            if upload.status != Upload.Status.READY:
                shown.append(format_html("<span>{} ({})</span>", upload.name, upload.status))
            elif upload.kind == Upload.Kind.IMAGE:
                thumb = upload.variants.get("thumb", {})
                width, height = _fit(thumb.get("width") or upload.width, thumb.get("height") or upload.height, THUMB_BOX)
                shown.append(
                    format_html(
                        '<a href="{}"><img src="{}" alt="{}" width="{}" height="{}" loading="lazy"></a>',
                        serialize.file_url(upload),
                        serialize.file_url(upload, "thumb"),
                        upload.name,
                        width,
                        height,
                    )
                )
            else:
                shown.append(format_html('<a href="{}">{}</a>', serialize.file_url(upload, download=True), upload.name))
        return format_html_join(" ", "{}", ((item,) for item in shown)) if shown else "—"

    @admin.action(description=_("Recall selected messages (as a moderator: any age, C2C or group)"), permissions=["moderate"])
    def recall_messages(self, request, queryset):
        """``recall_message_as_moderator`` for each: every viewer's open tab gets
        MESSAGE_REVOKED at once."""

        def recall(message, reason):
            return chat_actions.recall_message_as_moderator(request.user, message, reason=reason).changed

        return self._moderate(request, queryset, recall, _("Recall"), _("Recalled %(count)s message(s)."))

    @admin.action(description=_("Delete selected messages for everyone (content and files)"), permissions=["moderate"])
    def delete_messages_for_everyone(self, request, queryset):
        """``delete_message_for_everyone`` for each: recalled in the moderator's name, the
        content and the stored files gone, the row kept (the sequence stays whole)."""

        def delete(message, reason):
            return chat_actions.delete_message_for_everyone(request.user, message, reason=reason) is not None

        return self._moderate(
            request, queryset, delete, _("Delete for everyone"), _("Deleted %(count)s message(s)."), deletes=True
        )

    def _moderate(self, request, queryset, run, verb, done, deletes=False):
        """First a page that lists the messages and asks for a reason (as Django's own
        "delete selected" confirms), then the action for each, with that reason."""
        form = ModerationForm(request.POST if "post" in request.POST else None)
        if not form.is_valid():
            rows = [moderation_queries.message_row(m) for m in queryset[:MAX_CONFIRM_ROWS]]
            context = {
                **self.admin_site.each_context(request),
                "title": gettext("%(verb)s: are you sure?") % {"verb": verb},
                "opts": self.opts,
                "verb": verb,
                "rows": rows,
                "count": queryset.count(),
                "form": form,
                "action": request.POST.get("action"),
                "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
                "select_across": request.POST.get("select_across", "0"),
                "deletes": deletes,
            }
            return TemplateResponse(request, "admin/messaging/message/moderate_confirmation.html", context)
        reason = form.cleaned_data["reason"]
        count = _each(self, request, queryset, lambda message: run(message, reason))
        self.message_user(request, str(done) % {"count": count})
        return None


THUMB_BOX = 96  # px: the longest side of a thumbnail in the message list
MAX_CONFIRM_ROWS = 100  # messages listed on the confirmation page


def _fit(width, height, box):
    """(width, height) scaled to fit ``box`` (the image's ratio reserved before it loads)."""
    if not width or not height:
        return box, box
    scale = min(1, box / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyChatAdmin):
    list_display = ("user", "conversation_id", "unread_count", "last_read_seq", "is_hidden", "is_pinned")
    list_select_related = ("user",)
    readonly_fields = [f.name for f in Conversation._meta.fields]


@admin.register(Upload)
class UploadAdmin(ReadOnlyChatAdmin):
    list_display = ("uuid", "owner", "kind", "status", "name", "size", "created_at")
    list_filter = ("kind", "status")
    list_select_related = ("owner",)
    readonly_fields = [f.name for f in Upload._meta.fields]


@admin.register(Friend)
class FriendAdmin(ReadOnlyChatAdmin):
    """Who is in whose friend list (changed by the users, in the chat)."""

    list_display = ("owner", "friend", "remark", "source", "created_at")
    search_fields = ("owner__username", "friend__username")
    list_select_related = ("owner", "friend")
    readonly_fields = [f.name for f in Friend._meta.fields]


@admin.register(FriendApplication)
class FriendApplicationAdmin(ReadOnlyChatAdmin):
    list_display = ("applicant", "target", "add_type", "source", "created_at")
    search_fields = ("applicant__username", "target__username")
    list_select_related = ("applicant", "target")
    readonly_fields = [f.name for f in FriendApplication._meta.fields]


@admin.register(Block)
class BlockAdmin(ReadOnlyChatAdmin):
    """Block lists: who blocked whom (a blocked user's C2C messages are refused with 20007)."""

    list_display = ("owner", "blocked", "created_at")
    search_fields = ("owner__username", "blocked__username")
    list_select_related = ("owner", "blocked")
    readonly_fields = [f.name for f in Block._meta.fields]


@admin.register(GroupApplication)
class GroupApplicationAdmin(ReadOnlyChatAdmin):
    """Join applications, as the record of who asked and who answered (answered in the chat:
    handleGroupApplication)."""

    list_display = ("group", "applicant", "status", "handler", "created_at", "handled_at")
    list_filter = ("status",)
    list_select_related = ("group", "applicant", "handler")
    readonly_fields = [f.name for f in GroupApplication._meta.fields]


# --- run-time settings and the audit log ----------------------------------------------------


class ChatSettingsForm(forms.ModelForm):
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Kept in the audit log.")

    class Meta:
        model = ChatSettings
        fields = (
            "revoke_window",
            "edit_window",
            "group_send_rate",
            "friendship_check",
            "banned_words",
            "banned_words_action",
            "max_image_bytes",
            "max_audio_bytes",
            "max_video_bytes",
            "max_file_bytes",
            "user_storage_quota",
            "retention_days",
            "open_signup",
        )

    def clean_banned_words(self):
        value = self.cleaned_data.get("banned_words") or ""
        try:
            return check_banned_words(value)
        except ChatError as error:
            raise forms.ValidationError(error.message) from None


@admin.register(ChatSettings)
class ChatSettingsAdmin(admin.ModelAdmin):
    """One row, edited in place: the changelist opens it. An empty field is the
    deployment's default (shown in its help text); saving goes through
    ``update_chat_settings``, which logs the change and applies it in every process
    within ``RUNTIME_SETTINGS_TTL`` seconds."""

    form = ChatSettingsForm

    def get_form(self, request, obj=None, change=False, **kwargs):
        """Each field says what "empty" means on this site: the deployment's default, named in
        the empty choice of a list and in the help text of a number."""
        form = super().get_form(request, obj, change=change, **kwargs)
        for name, field_name in runtime.FIELDS.items():
            field = form.base_fields.get(field_name)
            if field is None:
                continue
            default = conf.get(name)
            if isinstance(default, bool):
                field.widget.choices = (("unknown", f"Default ({'on' if default else 'off'})"), ("true", "On"), ("false", "Off"))
            elif hasattr(field, "choices"):
                label = dict(field.choices).get(default, default)
                field.choices = [("", f"Default ({label})")] + [c for c in field.choices if c[0] != ""]
            else:
                shown = filesizeformat(default) if field_name.endswith(("_bytes", "_quota")) and default else default
                field.help_text = f"{field.help_text} Empty: the default ({shown}).".strip()
        return form

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        return redirect(reverse("admin:messaging_chatsettings_change", args=[chat_settings_row().pk]))

    def get_object(self, request, object_id, from_field=None):
        return chat_settings_row() if str(object_id) == "1" else None

    def save_model(self, request, obj, form, change):
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name != "reason"}
        try:
            saved = chat_actions.update_chat_settings(request.user, changes, reason=form.cleaned_data.get("reason", ""))
        except ChatError as error:
            self.message_user(request, not_changed(error), level=messages.ERROR)
            return
        obj.pk, obj.updated_at = saved.pk, saved.updated_at
        obj._state.adding, obj._state.db = False, saved._state.db


@admin.register(AuditLogEntry)
class AuditLogAdmin(admin.ModelAdmin):
    """Every moderator action, read-only: nobody edits or deletes the record."""

    list_display = ("created_at", "actor_name", "action", "target_type", "target", "reason")
    list_filter = ("action", "target_type", ("created_at", admin.DateFieldListFilter))
    search_fields = ("actor_name", "target_id", "reason")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in AuditLogEntry._meta.fields]

    @admin.display(description=_("target"), ordering="target_id")
    def target(self, entry):
        """The target, linked to its admin page or list (no query per row)."""
        targets = {
            "message": lambda: reverse("admin:messaging_message_change", args=[entry.target_id]),
            "user": lambda: reverse("admin:messaging_user_changelist") + "?" + urlencode({"q": entry.target_id}),
            "group": lambda: reverse("admin:messaging_group_changelist") + "?" + urlencode({"q": entry.target_id}),
        }
        if entry.target_type not in targets or (entry.target_type == "message" and not entry.target_id.isdigit()):
            return entry.target_id
        return format_html('<a href="{}">{}</a>', targets[entry.target_type](), entry.target_id)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- server API tokens ---------------------------------------------------------------------------


class ApiTokenCreationForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=[(scope, f"{scope}: {what}") for scope, what in SCOPES.items()], widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = ApiToken
        fields = ("name", "identifier", "scopes")
        help_texts = {
            "identifier": "The app admin account the token acts as: the sender of messages that name no From_Account, "
            "the operator in group tips, the revoker of recalls.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["identifier"].queryset = User.objects.filter(is_active=True).order_by("username")


@admin.register(ApiToken)
class ApiTokenAdmin(NoHardDelete, admin.ModelAdmin):
    list_display = ("name", "prefix", "scopes", "identifier", "created_by", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    list_select_related = ("identifier", "created_by")
    readonly_fields = ("name", "prefix", "scopes", "identifier", "created_by", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke_tokens"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenCreationForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ApiTokenCreationForm.Meta.fields if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_changeform_initial_data(self, request):
        return {"identifier": request.user.pk}

    def has_change_permission(self, request, obj=None):
        return False  # a token is made and revoked, never edited

    def save_model(self, request, obj, form, change):
        """The token is made by ``create_api_token``; ``obj`` becomes that row, and the
        secret is shown this once."""
        new = chat_actions.create_api_token(
            form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            identifier=form.cleaned_data["identifier"],
            created_by=request.user,
        )
        obj.pk, obj.prefix, obj.key_hash, obj.created_at = (
            new.token.pk,
            new.token.prefix,
            new.token.key_hash,
            new.token.created_at,
        )
        obj._state.adding, obj._state.db = False, new.token._state.db
        request._new_token_secret = new.secret

    def response_add(self, request, obj, post_url_continue=None):
        """The secret, shown this once on a page of its own that nothing keeps: not in the
        admin's messages, which travel in a cookie (as ``reset_passwords`` does)."""
        context = {
            **self.admin_site.each_context(request),
            "title": _("New API token"),
            "opts": self.opts,
            "token": obj,
            "secret": request._new_token_secret,
        }
        response = TemplateResponse(request, "admin/messaging/apitoken/created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    def has_revoke_permission(self, request):
        return request.user.is_superuser

    @admin.action(description=_("Revoke selected tokens (refused at once, for good)"), permissions=["revoke"])
    def revoke_tokens(self, request, queryset):
        count = sum(chat_actions.revoke_api_token(token, by=request.user) for token in queryset)
        self.message_user(request, gettext("Revoked %(count)s token(s).") % {"count": count})


# --- reports: the moderators' queue ------------------------------------------------------------


class ReportStatusFilter(admin.SimpleListFilter):
    """The queue shows open reports unless asked for others ("All" shows every report)."""

    title = "status"
    parameter_name = "status"
    ALL = "all"

    def lookups(self, request, model_admin):
        return [*MessageReport.Status.choices, (self.ALL, "All")]

    def choices(self, changelist):
        value = self.value() or MessageReport.Status.OPEN
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or MessageReport.Status.OPEN
        return queryset if value == self.ALL else queryset.filter(status=value)


PREVIEW_CHARS = 80
Resolution = MessageReport.Action
# (action_taken, button label): what a moderator may do with a report, in the order shown.
RESOLUTIONS = (
    (Resolution.RECALLED, "Recall message"),
    (Resolution.DELETED, "Delete message for everyone"),
    (Resolution.BANNED, "Ban sender"),
    (Resolution.DISMISSED, "Dismiss"),
)


def message_text(message: Message) -> str:
    """What a message says, for a moderator: a recalled message's kept content too."""
    payload = message.payload or {}
    if message.type == rules.TEXT:
        return payload.get("text", "")
    shown = rules.message_for_show(message.type, payload)
    name = payload.get("fileName") or payload.get("description") or ""
    return f"{shown} {name}".strip()


def conversation_label(thread: Thread) -> str:
    group = getattr(thread, "group", None)
    if group is not None:
        return f"{group.conversation_id} ({group.name})"
    if thread.kind == Thread.Kind.C2C:
        names = [u.username if u else "(deleted user)" for u in (thread.user_low, thread.user_high)]
        return "C2C " + " ↔ ".join(names)
    return str(thread)


@admin.register(MessageReport)
class MessageReportAdmin(NoHardDelete, admin.ModelAdmin):
    """Reports of messages (``reportMessage``), open ones first. The change page shows the
    message among its neighbours; its buttons resolve the report through
    ``actions.resolve_report`` (the moderation step, every open report of that message
    closed with it, an audit entry)."""

    change_form_template = "admin/messaging/messagereport/change_form.html"
    list_display = ("created_at", "reporter", "reason", "message_preview", "sender", "conversation", "status", "action_taken")
    list_filter = (ReportStatusFilter, "reason", "action_taken")
    list_select_related = (
        "reporter",
        "message__sender",
        "message__thread__group",
        "message__thread__user_low",
        "message__thread__user_high",
    )
    search_fields = ("reporter__username", "message__sender__username", "description", "message__msg_id")
    ordering = ("-created_at", "-pk")
    fields = (
        "reporter",
        "reason",
        "description",
        "created_at",
        "updated_at",
        "status",
        "action_taken",
        "resolved_by",
        "resolved_at",
        "note",
    )
    readonly_fields = fields
    actions = ["dismiss_reports", "recall_messages", "ban_senders"]

    class Media:
        css = {"all": ["moderation/reports.css"]}

    def has_add_permission(self, request):
        return False  # users report from the chat (reportMessage)

    def save_model(self, request, obj, form, change):
        """Every field is read-only: a report changes only by being resolved (``_resolve``)."""

    @admin.display(description=_("message"))
    def message_preview(self, report):
        text = message_text(report.message)
        text = text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"
        return f"(recalled) {text}" if report.message.is_revoked else text

    @admin.display(description=_("sender"))
    def sender(self, report):
        return report.message.sender

    @admin.display(description=_("conversation"))
    def conversation(self, report):
        return conversation_label(report.message.thread)

    def get_urls(self):
        attachment = self.admin_site.admin_view(self.attachment_view)
        return [
            path("<path:object_id>/file/<str:upload_uuid>/<str:variant>/", attachment, name="messaging_messagereport_file"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        report = self.get_object(request, object_id)
        if report is None:
            return super().change_view(request, object_id, form_url, extra_context)
        if request.method == "POST" and "_resolve" in request.POST:
            if not self.has_change_permission(request, report):
                raise PermissionDenied
            if self._resolve(request, report, request.POST["_resolve"], request.POST.get("note", "")):
                return redirect(reverse("admin:messaging_messagereport_changelist"))
            return redirect(request.path)
        context = message_context(report.message)
        # The reported message is the report's; its neighbours are messages, its files uploads:
        # each shown to those who may view those in the admin (the Moderators group may).
        shown = [m for m in context.messages if m.pk == report.message_id or request.user.has_perm(VIEW_MESSAGE_PERMISSION)]
        rows = [self._row(report, m, m.pk == report.message_id) for m in shown]
        if not request.user.has_perm(VIEW_UPLOAD_PERMISSION):
            for row in rows:
                row["files"] = []
        extra = {
            "context_rows": rows,
            "reported_conversation": conversation_label(report.message.thread),
            "resolutions": self._resolutions(report) if self.has_change_permission(request, report) else [],
            "is_open": report.status == MessageReport.Status.OPEN,
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
        }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def attachment_view(self, request, object_id, upload_uuid, variant):
        """A file of a message shown on the report's page (to whoever may view the report and
        uploads)."""
        report = self.get_object(request, object_id)
        if report is None:
            raise Http404("no such report")
        if not self.has_view_permission(request, report) or not request.user.has_perm(VIEW_UPLOAD_PERMISSION):
            raise PermissionDenied
        messages_shown = message_context(report.message).messages
        upload = next(
            (u for m in messages_shown for u in m.attachments.all() if u.uuid.hex == upload_uuid),
            None,
        )
        if upload is None or upload.status != Upload.Status.READY:
            raise Http404("no such file on this report's page")
        return serve_upload(request, upload, variant)

    def _row(self, report, message, reported):
        files = []
        for upload in message.attachments.all():
            if upload.status != Upload.Status.READY:
                continue

            def url(variant, upload=upload):
                return reverse("admin:messaging_messagereport_file", args=[report.pk, upload.uuid.hex, variant])

            thumb = url("thumb") if upload.kind == Upload.Kind.IMAGE and "thumb" in upload.variants else ""
            files.append({"name": upload.name, "kind": upload.kind, "size": upload.size, "url": url("original"), "thumb": thumb})
        return {
            "message": message,
            "reported": reported,
            "sender": message.sender.username if message.sender else "(system)",
            "text": message_text(message),
            "files": files,
            "revoked_by": message.revoker.username if message.is_revoked and message.revoker else "",
        }

    def _resolutions(self, report):
        return list(RESOLUTIONS)

    def _resolve(self, request, report, action_taken, note=""):
        """Resolve one report; a refusal is shown to the moderator. Whether it was resolved."""
        try:
            chat_actions.resolve_report(request.user, report, action_taken, note)
        except ChatError as error:
            self.message_user(
                request,
                gettext("Report %(pk)s not resolved: %(message)s (%(code)s)")
                % {"pk": report.pk, "message": error.message, "code": error.code},
                level=messages.ERROR,
            )
            return False
        self.message_user(
            request, gettext("Report %(pk)s resolved: %(action)s.") % {"pk": report.pk, "action": Resolution(action_taken).label}
        )
        return True

    def _resolve_many(self, request, queryset, action_taken):
        for report in queryset.filter(status=MessageReport.Status.OPEN):
            if MessageReport.objects.filter(pk=report.pk, status=MessageReport.Status.OPEN).exists():
                self._resolve(request, report, action_taken)  # an earlier one may have closed it with its message

    @admin.action(description=_("Dismiss selected reports"), permissions=["change"])
    def dismiss_reports(self, request, queryset):
        self._resolve_many(request, queryset, Resolution.DISMISSED)

    @admin.action(description=_("Recall the reported group messages"), permissions=["change"])
    def recall_messages(self, request, queryset):
        self._resolve_many(request, queryset, Resolution.RECALLED)

    @admin.action(description=_("Ban the senders of the reported messages"), permissions=["change"])
    def ban_senders(self, request, queryset):
        self._resolve_many(request, queryset, Resolution.BANNED)
