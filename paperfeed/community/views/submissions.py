from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from paperfeed.community import submissions
from paperfeed.community.forms import SubmitForm
from paperfeed.community.views.common import participation_refusal


@login_required
def submit(request: HttpRequest) -> HttpResponse:
    form = SubmitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if refused := participation_refusal(request, "submissions"):
            return refused
        try:
            paper = submissions.submit(request.user, form.cleaned_data["arxiv_id"],
                                       form.cleaned_data["comment"])
        except submissions.Refused as exc:
            form.add_error(None, str(exc))
        else:
            return redirect(paper.get_absolute_url())
    status = 400 if form.errors else 200
    return render(request, "community/submit.html", {
        "form": form, "window": settings.COMMUNITY["SUBMISSION_WINDOW_DAYS"],
        "cap": settings.COMMUNITY["SUBMISSIONS_PER_DAY"]}, status=status)
