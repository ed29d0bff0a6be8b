"""Subscribe, confirm, manage and unsubscribe: every step by a signed link, no account needed."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from paperfeed.community import ratelimit
from paperfeed.digests import tokens
from paperfeed.digests.emails import absolute, make_message, subscriber_links
from paperfeed.digests.forms import PreferencesForm, SubscribeForm
from paperfeed.digests.models import Delivery, Subscriber
from paperfeed.lib.rates import window_start

log = logging.getLogger("paperfeed.digests")
Status = Subscriber.Status


def _bad_link(request: HttpRequest) -> HttpResponse:
    return render(request, "digests/bad_link.html", status=400)


def _send_subscribe_mail(request: HttpRequest, subscriber: Subscriber) -> None:
    context = {"email": subscriber.email, "site_name": settings.SITE_NAME}
    if subscriber.status == Status.ACTIVE:
        name = "manage"
        context.update(subscriber_links(subscriber))
    else:
        name = "confirm"
        context["confirm_url"] = absolute(reverse("digests:confirm", args=[tokens.confirm_token(subscriber)]))
    make_message(name, context, subscriber.email).send(fail_silently=False)


def _may_mail(subscriber: Subscriber) -> bool:
    """Count one link e-mail to this address, unless its window's allowance is spent."""
    rate = settings.DIGESTS["MAILS_PER_ADDRESS"]
    window = window_start(time.time(), rate)
    with transaction.atomic():
        row = Subscriber.objects.select_for_update().values(
            "link_mail_window", "link_mails").get(pk=subscriber.pk)
        sent = row["link_mails"] if row["link_mail_window"] == window else 0
        if sent >= rate.limit:
            return False
        Subscriber.objects.filter(pk=subscriber.pk).update(link_mail_window=window,
                                                           link_mails=sent + 1)
    return True


@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    form = SubscribeForm(request.POST or None)
    if request.method == "GET" or not form.is_valid():
        return render(request, "digests/subscribe.html", {"form": form},
                      status=400 if request.method == "POST" else 200)
    per_ip = settings.DIGESTS["SUBSCRIBE_PER_IP"]
    if ratelimit.count("subscribe:ip", ratelimit.client_ip(request), per_ip) > per_ip.limit:
        wait = ratelimit.retry_after(per_ip)
        response = render(request, "digests/subscribe.html",
                          {"form": form, "too_many": True, "rate": per_ip}, status=429)
        response["Retry-After"] = str(wait)
        return response
    subscriber, _ = Subscriber.objects.get_or_create(email=form.cleaned_data["email"])
    return _opt_in(request, subscriber, form)


def _opt_in(request: HttpRequest, subscriber: Subscriber,
            form: SubscribeForm | None = None) -> HttpResponse:
    """Mail a confirmation link (or, to a subscribed address, its manage link)."""
    email = subscriber.email
    if subscriber.status != Status.ACTIVE and subscriber.status != Status.PENDING:
        # Coming back after unsubscribing or a bounce: confirm the address again.
        Subscriber.objects.filter(pk=subscriber.pk).update(status=Status.PENDING)
        subscriber.status = Status.PENDING
    if not _may_mail(subscriber):
        # The same page as when mail went out: it must not tell strangers anything.
        log.info("not sending another link to %s today (PAPERFEED_DIGEST_MAILS_PER_ADDRESS)",
                 email)
        return _check_inbox(request, email)
    try:
        _send_subscribe_mail(request, subscriber)
    except OSError as exc:  # smtplib errors are OSErrors; the address is kept, nothing lost
        log.warning("could not send the subscription e-mail to %s: %s", email, exc)
        return render(request, "digests/subscribe.html",
                      {"form": form or SubscribeForm(initial={"email": email}), "send_failed": True},
                      status=503)
    # The same answer whether or not the address was known: the page must not tell
    # strangers who is subscribed.
    return _check_inbox(request, email)


def _check_inbox(request: HttpRequest, email: str) -> HttpResponse:
    # Redirect after POST (a reload must not post the form again); the address rides in
    # the session rather than the URL, where it would land in logs and histories.
    request.session[_SENT_TO] = email
    return redirect("digests:subscribe_sent")


_SENT_TO = "digests_link_sent_to"


def subscribe_sent(request: HttpRequest) -> HttpResponse:
    email = request.session.get(_SENT_TO)
    if not email:
        return redirect("digests:subscribe")
    return render(request, "digests/check_inbox.html", {"email": email})


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    subscriber = tokens.subscriber_from_confirm_token(token)
    if subscriber is None:
        return _bad_link(request)
    if request.method == "GET":
        # A GET only shows a button: mail scanners open links, and must not subscribe anyone.
        return render(request, "digests/confirm.html", {"subscriber": subscriber})
    with transaction.atomic():
        # Locked and checked again: an unsubscribe that landed meanwhile wins.
        subscriber = Subscriber.objects.select_for_update().filter(
            pk=subscriber.pk, generation=subscriber.generation).first()
        if subscriber is None:
            return _bad_link(request)
        if subscriber.status != Status.ACTIVE:
            now = timezone.now()
            subscriber.status = Status.ACTIVE
            subscriber.confirmed_at = now
            subscriber.unsubscribed_at = None
            subscriber.bounce_reason = ""
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated and (user.email or "").lower() == subscriber.email:
                subscriber.user = user
            subscriber.reschedule(now)
            subscriber.save()
    return redirect(reverse("digests:manage", args=[tokens.manage_token(subscriber)]) + "?welcome=1")


@require_http_methods(["GET", "POST"])
def manage(request: HttpRequest, token: str) -> HttpResponse:
    subscriber = tokens.subscriber_from_manage_token(token)
    if subscriber is None:
        return _bad_link(request)
    if request.method == "POST" and request.POST.get("action") == "resubscribe":
        # An old e-mail's link must not undo an unsubscribe by itself: subscribing again is
        # a new opt-in, confirmed by a new link sent to the address.
        return _opt_in(request, subscriber)
    if request.method == "POST":
        form = PreferencesForm(request.POST, instance=subscriber)
        if form.is_valid():
            subscriber = form.save(commit=False)
            subscriber.reschedule(timezone.now())
            subscriber.save()
            return redirect(request.path + "?saved=1")
    else:
        form = PreferencesForm(instance=subscriber)
    context = {
        "subscriber": subscriber, "form": form, "token": token,
        "saved": request.GET.get("saved") == "1" and not form.is_bound,
        "welcome": request.GET.get("welcome") == "1",
    }
    return render(request, "digests/manage.html", context, status=400 if form.errors else 200)


@csrf_exempt  # RFC 8058: mail clients POST here with no cookie and no session
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    subscriber = tokens.subscriber_from_manage_token(token)
    if subscriber is None:
        return _bad_link(request)
    context = {"subscriber": subscriber, "token": token}
    if request.method == "GET":
        if subscriber.status == Status.UNSUBSCRIBED:
            return render(request, "digests/unsubscribed.html", context)
        # Again only a button: a link scanner must not unsubscribe anyone.
        return render(request, "digests/unsubscribe.html", context)
    unsubscribe_address(subscriber)
    if request.POST.get("List-Unsubscribe") == "One-Click":
        # RFC 8058's POST comes from a mail client, which wants the answer, not a redirect.
        return render(request, "digests/unsubscribed.html", context)
    return redirect(request.path)  # the page's button: redirect after POST


def unsubscribe_address(subscriber: Subscriber) -> None:
    with transaction.atomic():
        if subscriber.status in (Status.ACTIVE, Status.PENDING):
            subscriber.status = Status.UNSUBSCRIBED
            subscriber.unsubscribed_at = timezone.now()
            subscriber.next_send_at = None
            # Every confirmation link sent so far stops working (tokens.py).
            subscriber.generation = F("generation") + 1
            subscriber.save(update_fields=["status", "unsubscribed_at", "next_send_at",
                                           "generation"])
            subscriber.refresh_from_db(fields=["generation"])
        # Waiting digests are dropped; one already handed to a sender checks the status first.
        Delivery.objects.filter(subscriber=subscriber, state=Delivery.State.PENDING).update(
            state=Delivery.State.CANCELLED, finished_at=timezone.now())
