from django.contrib.auth import views as auth_views
from django.urls import include, path, reverse_lazy

from dashboard import views, views_search
from dashboard.forms import SignInForm
from dashboard.permissions import public

app_name = "dashboard"

auth_patterns = [
    path(
        "login/",
        public(
            auth_views.LoginView.as_view(
                template_name="registration/login.html",
                authentication_form=SignInForm,
                redirect_authenticated_user=True,
            )
        ),
        name="login",
    ),
    path("logout/", public(auth_views.LogoutView.as_view()), name="logout"),
    path(
        "password-reset/",
        public(
            auth_views.PasswordResetView.as_view(
                success_url=reverse_lazy("dashboard:password_reset_done"),
                email_template_name="registration/password_reset_email.txt",
                subject_template_name="registration/password_reset_subject.txt",
            )
        ),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        public(auth_views.PasswordResetDoneView.as_view()),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        public(
            auth_views.PasswordResetConfirmView.as_view(
                success_url=reverse_lazy("dashboard:password_reset_complete")
            )
        ),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        public(auth_views.PasswordResetCompleteView.as_view()),
        name="password_reset_complete",
    ),
]

# Pages whose features arrive with later work; each says so instead of showing figures.
PLACEHOLDERS = [
    (
        "billing/",
        "billing",
        "Billing",
        "billing.view",
        "Subscriptions, invoices and coupons.",
        "Billing",
    ),
]

account_patterns = [
    path("", views.home, name="home"),
    path("home/edit/", views.home_edit, name="home_edit"),
    path("home/layout/", views.home_layout_save, name="home_layout_save"),
    path("mode/", views.mode_toggle, name="mode_toggle"),
    path("shortcuts/pin/", views.pin_toggle, name="pin_toggle"),
    path("settings/", views.settings_index, name="settings"),
    path("settings/account/", views.account_details, name="account_details"),
    path("settings/account/edit/", views.account_details_edit, name="account_details_edit"),
    path("settings/team/", views.team, name="team"),
    path("settings/team/invite/", views.team_invite, name="team_invite"),
    path("settings/team/role/", views.team_role_change, name="team_role_change"),
    path("settings/team/remove/", views.team_member_remove, name="team_member_remove"),
    path(
        "settings/team/invitations/<str:invitation_id>/revoke/",
        views.team_invitation_revoke,
        name="team_invitation_revoke",
    ),
    path("settings/security/", views.security_history, name="security_history"),
    path("search/", views_search.search_results, name="search"),
    *[
        path(
            route,
            views.placeholder(title=title, action=action, lead=lead, arrives_with=arrives),
            name=name,
        )
        for route, name, title, action, lead, arrives in PLACEHOLDERS
    ],
]

urlpatterns = [
    path("", views.entry, name="entry"),
    path("accounts/new/", views.account_create, name="account_create"),
    *auth_patterns,
    # Not under /a/<account_slug>/: the visitor is not a member yet.
    path(
        "invitations/<slug:invitation_account>/<str:token>/",
        views.invitation_accept,
        name="invitation_accept",
    ),
    path("a/<slug:account_slug>/", include(account_patterns)),
]
