import time

from asgiref.sync import sync_to_async
from django import forms
from django.contrib.auth import login, logout, password_validation
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.handlers.asgi import ASGIRequest
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect, ensure_csrf_cookie
from django.views.decorators.http import require_POST

from chatsite.staticfiles import module_import_map
from messaging import actions, conf, runtime, storage
from messaging.actions import users
from messaging.errors import ChatError, ErrorCode
from messaging.queries import export


@login_required
@ensure_csrf_cookie
def chat_page(request):
    """The chat UI. It loads static/chat/tim.js (the SDK) and static/chat/main.js (the UI modules).

    The CSRF cookie is set here: tim.js sends it with its upload requests. The page's
    import map (hashed module URLs, chatsite/staticfiles.py) is the one inline script
    its Content-Security-Policy allows, by hash.
    """
    import_map, import_map_source = module_import_map()
    response = render(request, "chat/index.html", {"user_id": request.user.username, "import_map": import_map})
    if import_map_source:
        response._csp_update = {"script-src": [import_map_source]}  # as django-csp's @csp_update does
    return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change, then every chat socket opened before it is closed
    (actions.password_changed): a stolen session's socket does not outlive the change."""

    def form_valid(self, form):
        response = super().form_valid(form)
        actions.password_changed(self.request.user)
        return response


class LoginForm(AuthenticationForm):
    """Django's login form in the page's words: the field is "User ID" (Django's
    messages say "username"), and each empty field says so."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("That User ID and password don't match. Both are case-sensitive."),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("User ID")
        self.fields["username"].error_messages["required"] = _("Enter your User ID.")
        self.fields["password"].error_messages["required"] = _("Enter your password.")


class LoginView(auth_views.LoginView):
    """Django's login; the page links to /signup/ only while open sign-up is on."""

    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "open_signup": runtime.get("OPEN_SIGNUP"),
            "account_deleted": self.request.GET.get("deleted") == "1",
        }


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's password reset by e-mail link; then, as after a password change, every chat
    socket opened before it is closed (actions.password_changed): whoever held the old
    password loses their open chats with it."""

    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        actions.password_changed(form.user)
        return response


# --- open sign-up ---------------------------------------------------------------------


class SignupForm(forms.Form):
    username = forms.CharField(label=_("User ID"), max_length=64, strip=False)
    nick = forms.CharField(label=_("Name"), max_length=users.MAX_NICK, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    password1 = forms.CharField(label=_("Password"), strip=False)
    password2 = forms.CharField(label=_("Password again"), strip=False)

    def clean(self):
        data = super().clean()
        password = data.get("password1")
        if password and data.get("password2") != password:
            self.add_error("password2", _("The two passwords differ."))
        elif password:
            try:
                password_validation.validate_password(password)
            except ValidationError as error:
                self.add_error("password1", error)
        return data


@csrf_protect
@never_cache
def signup(request):
    """Open sign-up (``runtime.get("OPEN_SIGNUP")``, off by default: 404 then). The
    account is made by ``actions.create_user`` (the SDK's userID rules), then signed in.
    Each address may try ``SIGNUP_ATTEMPTS_PER_HOUR`` times an hour (429 after)."""
    if not runtime.get("OPEN_SIGNUP"):
        raise Http404("sign-up is closed")
    if request.user.is_authenticated:
        return redirect("chat")
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        if not signup_allowed(request):
            return render(request, "registration/signup.html", {"form": form, "throttled": True}, status=429)
        if form.is_valid():
            data = form.cleaned_data
            try:
                user = actions.create_user(
                    data["username"], password=data["password1"], nick=data["nick"].strip(), email=data["email"]
                )
            except ChatError as error:
                form.add_error("username", error.message)
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                return redirect("chat")
    return render(request, "registration/signup.html", {"form": form})


def signup_allowed(request) -> bool:
    """A fixed window per client address in Django's cache (the address as the login
    throttle sees it, behind the configured proxies). Each process has its own count
    unless CACHES is shared: a bound on scripted sign-ups, not an exact quota."""
    from axes.helpers import get_client_ip_address

    limit = conf.get("SIGNUP_ATTEMPTS_PER_HOUR")
    key = f"signup:{get_client_ip_address(request)}:{int(time.time() // 3600)}"
    cache.add(key, 0, timeout=3600)
    try:
        attempts = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600)
        attempts = 1
    return attempts <= limit


# --- the user's own account: delete, export ---------------------------------------------


@require_POST
@login_required
def delete_account(request):
    """Delete the signed-in user's account (``actions.delete_account``) after checking
    their password, from the settings screen's dialog: JSON ``{"ok": true}``, or 403 with
    ``{"code", "message"}`` for a wrong password. The session ends with it."""
    password = request.POST.get("password", "")
    if not request.user.check_password(password):
        return JsonResponse(
            {"code": ErrorCode.PERMISSION_DENIED, "message": "That password isn't right."},
            status=403,
        )
    actions.delete_account(request.user)
    logout(request)
    return JsonResponse({"ok": True, "next": reverse("login")})


@login_required
def export_data(request):
    """The signed-in user's own data as a zip (``queries.export``), streamed: the
    profile, the messages they sent (one JSON file per conversation) and the files of
    those messages. Under ASGI the zip is produced a piece at a time in a worker thread
    (a synchronous iterator would be read whole into memory by Django first)."""
    pieces = export.zip_stream(request.user)
    if isinstance(request, ASGIRequest):
        pieces = _async_pieces(pieces)
    response = StreamingHttpResponse(pieces, content_type="application/zip")
    name = f"chat-export-{request.user.username}.zip"
    response["Content-Disposition"] = storage.content_disposition(name, inline=False)
    response["Cache-Control"] = "private, no-store"
    return response


async def _async_pieces(pieces):
    step = sync_to_async(next, thread_sensitive=True)
    while True:
        piece = await step(pieces, None)
        if piece is None:
            return
        yield piece
