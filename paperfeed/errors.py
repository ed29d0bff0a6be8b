"""Error pages in the site's layout: 400, 403, 404, 500 and the CSRF failure page.

403 and 404 are Django's own views rendering ``403.html``/``404.html`` with the request
(the database is up when a page is merely missing). 400 and 500 come here: they render
without the request's context processors, so they draw even when the database is down
(the signed-in user, the messages and the session all read it).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme


def _static_safe(template: str, status: int) -> HttpResponse:
    # No request: nothing in the template may reach the database.
    html = loader.get_template(template).render({"site_name": settings.SITE_NAME})
    return HttpResponse(html, status=status)


def server_error(request: HttpRequest) -> HttpResponse:
    return _static_safe("500.html", 500)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _static_safe("400.html", 400)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: say what happened (an old tab, usually) and offer a way back."""
    message = ("This form was older than your session: you probably signed in or out in "
               "another tab after this page was loaded. Nothing was saved.")
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"error": message + " Reload the page and try again."}, status=403)
    referer = request.headers.get("Referer", "")
    back = referer if url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()) else ""
    response = loader.render_to_string(
        "403_csrf.html", {"message": message, "back": back,
                          "no_cookie": reason == REASON_NO_CSRF_COOKIE}, request)
    return HttpResponse(response, status=403)
