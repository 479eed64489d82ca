from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie


@login_required
@ensure_csrf_cookie
def chat_page(request):
    """The chat UI. It loads static/chat/tim.js (the SDK) and static/chat/main.js (the UI modules).

    The CSRF cookie is set here: tim.js sends it with its upload requests.
    """
    return render(request, "chat/index.html", {"user_id": request.user.username})
