from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from chatsite.staticfiles import module_import_map
from messaging import actions


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
