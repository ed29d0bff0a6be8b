"""Small helpers every community view uses: refusals, safe redirects, JSON or HTML."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from paperfeed.community import participation


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
    refused = participation.refusal(request, request.user, action)
    if refused is None:
        return None
    headers = {} if refused.retry_after is None else {"Retry_After": str(refused.retry_after)}
    return refuse(request, refused.message, status=refused.status, **headers)
