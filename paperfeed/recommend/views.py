"""The "For you" page, its settings, feedback buttons and "More like this"."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from paperfeed.lib.library import read_library
from paperfeed.lib.text import title_key
from paperfeed.papers.models import Paper
from paperfeed.recommend import service
from paperfeed.recommend.forms import InterestForm, LibraryForm, RemoveInterestForm
from paperfeed.recommend.models import Feedback, Interest, PrivateFeed


def for_you(request):
    if not request.user.is_authenticated:
        return render(request, "recommend/for_you.html", {"nav": "for-you", "anonymous": True})
    picks = service.recommend(request.user)
    has_papers = bool(service.positives_for(request.user))
    has_topics = Interest.objects.filter(user=request.user).exists()
    return render(request, "recommend/for_you.html", {
        "nav": "for-you", "picks": picks, "has_papers": has_papers, "has_topics": has_topics,
        "span": service.window(), "interest_form": InterestForm(), "library_form": LibraryForm(),
        "feed": PrivateFeed.for_user(request.user),
    })


def _back(request, fallback: str = "recommend:for_you"):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(fallback)


@login_required
@require_POST
def feedback(request, paper_id: int):
    paper = get_object_or_404(Paper.objects.visible(), pk=paper_id)
    action = request.POST.get("action", "")
    kinds = {"save": Feedback.Kind.SAVED, "dismiss": Feedback.Kind.NOT_INTERESTED}
    if action in kinds:
        try:
            with transaction.atomic():
                Feedback.objects.create(user=request.user, paper=paper, kind=kinds[action])
        except IntegrityError:
            pass  # already there: a double click
        if action == "dismiss":
            Feedback.objects.filter(user=request.user, paper=paper, kind=Feedback.Kind.SAVED).delete()
            messages.info(request, f"You won't see “{paper.title}” here again, nor much like it.")
        else:
            messages.success(request, f"Saved “{paper.title}”.")
    elif action in {"unsave", "undismiss"}:
        kind = Feedback.Kind.SAVED if action == "unsave" else Feedback.Kind.NOT_INTERESTED
        Feedback.objects.filter(user=request.user, paper=paper, kind=kind).delete()
    else:
        messages.error(request, "Unknown action.")
    return _back(request)


@login_required
def preferences(request):
    interest_form, library_form = InterestForm(), LibraryForm()
    status = 200
    if request.method == "POST":
        if "remove" in request.POST:
            remove_form = RemoveInterestForm(request.POST)
            if remove_form.is_valid():
                # Already gone (a double click) is fine: the page shows what is left.
                Interest.objects.filter(user=request.user, pk=remove_form.cleaned_data["remove"]).delete()
                return redirect("recommend:preferences")
            messages.error(request, "That is not a topic to remove: use the Remove button next to it.")
            status = 400
        if "value" in request.POST:
            interest_form = InterestForm(request.POST)
            if interest_form.is_valid():
                Interest.objects.get_or_create(user=request.user, kind=interest_form.cleaned_data["kind"],
                                               value=interest_form.cleaned_data["value"])
                messages.success(request, "Topic added.")
                return redirect("recommend:preferences")
        elif "library" in request.POST:
            library_form = LibraryForm(request.POST)
            if library_form.is_valid():
                found, missing = _import_library(request.user, library_form.cleaned_data["library"])
                note = f"Added {found} paper{'s' if found != 1 else ''} to your library."
                if missing:
                    note += (f" {missing} {'is' if missing == 1 else 'are'} not on this site yet; "
                             "they will count once they are.")
                messages.success(request, note)
                return redirect("recommend:preferences")
    return render(request, "recommend/preferences.html", {
        "nav": "for-you", "interests": Interest.objects.filter(user=request.user),
        "interest_form": interest_form, "library_form": library_form,
        "saved": Paper.objects.with_upvotes().filter(
            pk__in=Feedback.objects.filter(user=request.user, kind=Feedback.Kind.SAVED).values("paper_id")),
        "library_count": Feedback.objects.filter(user=request.user, kind=Feedback.Kind.LIBRARY).count(),
    }, status=status)


def _import_library(user, text: str) -> tuple[int, int]:
    library = read_library(text)
    by_id = dict(Paper.objects.filter(arxiv_id__in=library.arxiv_ids).values_list("arxiv_id", "pk"))
    keys = {title_key(t) for t in library.titles}
    by_title = dict(Paper.objects.filter(title_key__in=keys).values_list("title_key", "pk"))
    paper_ids = set(by_id.values()) | set(by_title.values())
    Feedback.objects.bulk_create(
        [Feedback(user=user, paper_id=pid, kind=Feedback.Kind.LIBRARY) for pid in paper_ids],
        ignore_conflicts=True,
    )
    missing = len([i for i in library.arxiv_ids if i not in by_id])
    return len(paper_ids), missing


def more_like(request, public_id: str):
    from paperfeed.search.service import related_papers

    try:
        paper = Paper.objects.visible().lookup(public_id)
    except Paper.DoesNotExist:
        raise Http404(f"No paper {public_id!r} here.") from None
    ids = related_papers(paper.pk, limit=30)
    order = {pid: i for i, pid in enumerate(ids)}
    papers = sorted(Paper.objects.for_listing().filter(pk__in=ids), key=lambda p: order[p.pk])
    return render(request, "recommend/more_like.html", {"paper": paper, "papers": papers})


@login_required
@require_POST
def renew_feed(request):
    PrivateFeed.for_user(request.user, renew=True)
    messages.success(request, "Your private feed has a new address; the old one no longer works.")
    return redirect("recommend:for_you")
