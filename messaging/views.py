from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def chat_page(request):
    """The chat UI. It loads static/chat/tim.js (the SDK) and app.js (the UI)."""
    return render(request, "chat/index.html", {"user_id": request.user.username})
