from django.urls import path

from paperfeed.community.views import accounts, comments, moderation, profiles, submissions, votes

app_name = "community"
urlpatterns = [
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/verify/resend/", accounts.resend_verification, name="verify_resend"),
    path("accounts/verify/sent/", accounts.verify_sent, name="verify_sent"),
    path("accounts/deleted/", accounts.account_deleted, name="account_deleted"),
    path("accounts/verify/<str:token>/", accounts.verify, name="verify"),
    path("accounts/login/", accounts.SignInView.as_view(), name="login"),
    path("accounts/logout/", accounts.SignOutView.as_view(), name="logout"),
    path("accounts/password/", accounts.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/reset/", accounts.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password/reset/sent/", accounts.PasswordResetDoneView.as_view(),
         name="password_reset_done"),
    path("accounts/password/reset/<uidb64>/<token>/", accounts.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("accounts/password/reset/done/", accounts.PasswordResetCompleteView.as_view(),
         name="password_reset_complete"),
    path("users/<str:username>/", profiles.profile, name="profile"),
    path("users/<str:username>/edit/", profiles.edit, name="profile_edit"),
    path("users/<str:username>/delete/", profiles.delete, name="profile_delete"),
    path("users/<str:username>/block/", profiles.block, name="block"),
    path("votes/<int:paper_id>/", votes.vote, name="vote"),
    # /papers/submit comes before papers' catch-all /papers/<id> ("submit" is a reserved slug).
    path("papers/submit", submissions.submit, name="submit"),
    path("comments/on/<int:paper_id>/", comments.new, name="comment_new"),
    path("comments/<int:pk>/edit/", comments.edit, name="comment_edit"),
    path("comments/<int:pk>/delete/", comments.delete, name="comment_delete"),
    path("comments/<int:pk>/moderate/", comments.moderate, name="comment_moderate"),
    path("moderation/", moderation.dashboard, name="moderation"),
    path("moderation/papers/<int:pk>/", moderation.paper_action, name="paper_moderate"),
]
