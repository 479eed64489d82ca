from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path, re_path
from django.views.i18n import JavaScriptCatalog, set_language

from messaging import views
from messaging.api import uploads
from messaging.api.v1 import api as api_v1
from messaging.api.v1.routes import unknown_api

urlpatterns = [
    path("", views.chat_page, name="chat"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Django's own views; templates/registration/password_change_*.html give them the site's look.
    path("accounts/password_change/", views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    # Password reset by e-mail: Django's views, templates/registration/password_reset_*.html.
    path("accounts/password_reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password_reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("accounts/reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("signup/", views.signup, name="signup"),
    path("account/delete/", views.delete_account, name="account-delete"),
    path("account/export/", views.export_data, name="account-export"),
    path("api/uploads/", uploads.create_upload, name="upload-create"),
    path("api/uploads/<str:upload_uuid>/data", uploads.upload_data, name="upload-data"),
    path("api/uploads/<str:upload_uuid>/complete", uploads.complete_upload, name="upload-complete"),
    path("files/<str:upload_uuid>/<str:variant>", uploads.download, name="file"),
    path("api/uploads/<str:upload_uuid>/avatar", uploads.make_avatar, name="upload-avatar"),
    path("media/avatars/<str:name>", uploads.avatar, name="avatar"),
    path("api/v1/", api_v1.urls),
    re_path(r"^api/v1/", unknown_api),
    path("admin/", admin.site.urls),
    # The UI's translations as an external script (the CSP allows no inline one), and the
    # settings' language switch (a form posting here sets the language cookie).
    path("i18n/catalog.js", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("i18n/setlang/", set_language, name="set_language"),
]
