"""Sign up, confirm the e-mail address, sign in and out, change or reset the password."""

from __future__ import annotations

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST

from paperfeed.community import accounts, ratelimit
from paperfeed.community.forms import SignInForm, SignUpForm
from paperfeed.community.signin import signin_limited
from paperfeed.community.views.common import refuse


def _message(request: HttpRequest, title: str, message: str, status: int = 200) -> HttpResponse:
    return render(request, "community/message.html", {"title": title, "message": message},
                  status=status)


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("community:profile", request.user.get_username())
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if refusal := ratelimit.check(request, "signups"):
            return refuse(request, refusal.message, status=429)
        user = form.save()
        accounts.send_verification(user)
        auth.login(request, user, backend="paperfeed.community.signin.LimitedModelBackend")
        # Redirect after POST: reloading the next page must not post the form again.
        return redirect("community:verify_sent")
    return render(request, "community/signup.html", {"form": form})


def verify_sent(request: HttpRequest) -> HttpResponse:
    """After sign-up or "send the link again": where the link went."""
    if not request.user.is_authenticated:
        return redirect("community:signup")
    return _message(request, "Check your inbox",
                    f"We sent a confirmation link to {request.user.email}. Open it to start "
                    "upvoting, submitting and commenting.")


def verify(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button; only the POST confirms (mail scanners follow links with GET)."""
    try:
        user = accounts.user_for_token(token)
    except accounts.BadLink as exc:
        return _message(request, "Link not valid", str(exc), status=400)
    if request.method == "POST":
        accounts.mark_verified(user)
        return redirect(request.path)
    if accounts.is_verified(user):
        return _message(request, "Address confirmed",
                        f"Thank you, {user.get_username()}: your address is confirmed.")
    return render(request, "community/verify.html", {"account": user})


@require_POST
@login_required
def resend_verification(request: HttpRequest) -> HttpResponse:
    if refusal := ratelimit.check(request, "signups"):
        return refuse(request, refusal.message, status=429)
    accounts.send_verification(request.user)
    return redirect("community:verify_sent")


def account_deleted(request: HttpRequest) -> HttpResponse:
    return _message(request, "Account deleted",
                    "Your account, votes and the text of your comments are gone.")


class SiteNameMixin:
    """The configured site name where Django's auth views put ``site_name``.

    Django takes it (and the reset e-mail's link) from the request's host when
    django.contrib.sites is not installed: pages and mails said "127.0.0.1:8000".
    """

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "site_name": settings.SITE_NAME}


@method_decorator(signin_limited, name="dispatch")
class SignInView(SiteNameMixin, auth_views.LoginView):
    """Django's sign-in, refusing an address that keeps guessing passwords (signin.py)."""

    template_name = "community/signin.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


class SignOutView(SiteNameMixin, auth_views.LogoutView):
    pass


class PasswordResetView(SiteNameMixin, auth_views.PasswordResetView):
    template_name = "community/password_reset.html"
    email_template_name = "community/email/password-reset-body.txt"
    html_email_template_name = "community/email/password-reset-body.html"
    subject_template_name = "community/email/password-reset-subject.txt"
    success_url = reverse_lazy("community:password_reset_done")

    def form_valid(self, form):
        if refusal := ratelimit.check(self.request, "signups"):
            return refuse(self.request, refusal.message, status=429)
        return super().form_valid(form)

    @property
    def extra_email_context(self) -> dict:
        # The link is built on PAPERFEED_SITE_URL, like every other mail's, never on the
        # Host header of whoever asked for the reset.
        return {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL}


class PasswordResetDoneView(SiteNameMixin, auth_views.PasswordResetDoneView):
    template_name = "community/message.html"
    extra_context = {"title": "Check your inbox",
                     "message": "If an account uses that address, we sent it a link to choose "
                                "a new password."}


class PasswordResetConfirmView(SiteNameMixin, auth_views.PasswordResetConfirmView):
    template_name = "community/password_set.html"
    success_url = reverse_lazy("community:password_reset_complete")


class PasswordResetCompleteView(SiteNameMixin, auth_views.PasswordResetCompleteView):
    template_name = "community/message.html"
    extra_context = {"title": "Password changed", "message": "You can sign in with it now."}


class PasswordChangeView(SiteNameMixin, auth_views.PasswordChangeView):
    template_name = "community/password_set.html"

    def get_success_url(self) -> str:
        return reverse("community:profile", args=[self.request.user.get_username()])
