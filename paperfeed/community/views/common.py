"""Small helpers every community view uses: refusals, safe redirects, JSON or HTML."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from paperfeed.community import accounts, ratelimit


def wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def refuse(request: HttpRequest, message: str, status: int = 400, **headers) -> HttpResponse:
    """A clear refusal: JSON for the page's script, a small page for a plain form post."""
    if wants_json(request):
        response = JsonResponse({"error": message}, status=status)
    else:
        response = render(request, "community/message.html",
                          {"title": "That did not work", "message": message,
                           "back": safe_next(request, "")}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def safe_next(request: HttpRequest, default: str) -> str:
    """Where to go back to: ``next`` if it points at this site, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


def back(request: HttpRequest, default: str) -> HttpResponse:
    return redirect(safe_next(request, default))


def participation_refusal(request: HttpRequest, action: str) -> HttpResponse | None:
    """Why this signed-in member may not ``action`` (votes, comments, submissions) now."""
    if not accounts.is_verified(request.user):
        return refuse(request, "Please confirm your e-mail address first: use the link we sent "
                               "you, or ask for a new one on your account page.", status=403)
    refusal = ratelimit.check(request, action)
    if refusal is not None:
        return refuse(request, refusal.message, status=429, Retry_After=str(refusal.retry_after))
    return None
