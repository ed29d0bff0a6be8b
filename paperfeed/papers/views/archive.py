"""Daily, weekly and monthly pages: Django's date-based views with one mixin."""

from __future__ import annotations

import datetime as dt
import re

from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic.dates import DayArchiveView, MonthArchiveView, WeekArchiveView

from paperfeed.papers.models import Paper
from paperfeed.papers.views.mixins import PaperListMixin

_WEEK = re.compile(r"(\d{4})-?W(\d{1,2})", re.IGNORECASE)
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")


def _iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


class PeriodMixin(PaperListMixin):
    """Adds the period's bounds, neighbours with papers, and a label to the context."""

    period = ""

    def period_bounds(self) -> tuple[dt.date, dt.date]:
        raise NotImplementedError

    def period_url(self, day: dt.date) -> str:
        raise NotImplementedError

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        start, end = self.period_bounds()
        days = self.filter_category(Paper.objects.all())
        before = days.visible().in_feed().filter(feed_date__lt=start).order_by("-feed_date")
        after = days.visible().in_feed().filter(feed_date__gt=end).order_by("feed_date")
        previous_day = before.values_list("feed_date", flat=True).first()
        next_day = after.values_list("feed_date", flat=True).first()
        query = self.category_query()
        context.update(
            nav="daily",
            period=self.period,
            week_slug=_iso_week(start),
            month_slug=f"{start.year}-{start.month:02d}",
            period_start=start,
            period_end=end,
            previous_day=previous_day,
            next_day=next_day,
            previous_url=self.period_url(previous_day) + query if previous_day else "",
            next_url=self.period_url(next_day) + query if next_day else "",
        )
        return context


class DayView(PeriodMixin, DayArchiveView):
    period = "day"
    month_format = "%m"
    template_name = "papers/day.html"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        if "date" in kwargs:
            year, month, day = kwargs["date"].split("-")
            self.kwargs.update(year=year, month=month, day=day)

    def period_bounds(self):
        day = self.get_day_date()
        return day, day

    def get_day_date(self) -> dt.date:
        return dt.date(int(self.get_year()), int(self.get_month()), int(self.get_day()))

    def period_url(self, day: dt.date) -> str:
        return reverse("papers:day", args=[day.isoformat()])


class LatestView(DayView):
    """``/papers``: the latest day that has papers."""

    def get(self, request, *args, **kwargs):
        latest = self.filter_category(Paper.objects.all()).latest_feed_day()
        self.latest = latest
        if latest is None:
            latest = dt.date.today()
        self.kwargs.update(year=str(latest.year), month=f"{latest.month:02d}", day=str(latest.day))
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["is_latest"] = True
        context["no_papers_at_all"] = self.latest is None
        return context


class WeekView(PeriodMixin, WeekArchiveView):
    period = "week"
    year_format = "%G"
    week_format = "%V"
    template_name = "papers/week.html"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        match = _WEEK.fullmatch(kwargs.get("week", ""))
        if not match or not 1 <= int(match[2]) <= dt.date(int(match[1]), 12, 28).isocalendar()[1]:
            raise Http404("Weeks look like 2025-W07.")
        self.kwargs.update(year=match[1], week=match[2])

    def period_bounds(self):
        start = dt.date.fromisocalendar(int(self.get_year()), int(self.get_week()), 1)
        return start, start + dt.timedelta(days=6)

    def period_url(self, day: dt.date) -> str:
        return reverse("papers:week", args=[_iso_week(day)])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["iso_week"] = f"{int(self.get_year())}-W{int(self.get_week()):02d}"
        return context


class MonthView(PeriodMixin, MonthArchiveView):
    period = "month"
    month_format = "%m"
    template_name = "papers/month.html"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        match = _MONTH.fullmatch(kwargs.get("month", ""))
        if not match or not 1 <= int(match[2]) <= 12:
            raise Http404("Months look like 2025-07.")
        self.kwargs.update(year=match[1], month=f"{int(match[2]):02d}")

    def period_bounds(self):
        start = dt.date(int(self.get_year()), int(self.get_month()), 1)
        end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        return start, end

    def period_url(self, day: dt.date) -> str:
        return reverse("papers:month", args=[f"{day.year}-{day.month:02d}"])

    def get_date_list(self, queryset, date_type=None, ordering="ASC"):
        # The page doesn't show the month's list of days: skip the query that builds it.
        return []


def go_to_date(request):
    """Target of the date pickers (GET forms): redirect to the page for that period.

    Browsers without a native week/month picker send free text, so parsing is lenient
    and anything unreadable lands on the latest day with a note rather than an error.
    """
    category = request.GET.get("category", "").strip()
    suffix = f"?category={category}" if category else ""
    raw_date = request.GET.get("date", "").strip()
    raw_week = request.GET.get("week", "").strip()
    raw_month = request.GET.get("month", "").strip()
    try:
        if raw_date:
            day = dt.date.fromisoformat(raw_date)
            return redirect(reverse("papers:day", args=[day.isoformat()]) + suffix)
        if match := _WEEK.fullmatch(raw_week):
            dt.date.fromisocalendar(int(match[1]), int(match[2]), 1)
            return redirect(reverse("papers:week", args=[f"{match[1]}-W{int(match[2]):02d}"]) + suffix)
        if match := _MONTH.fullmatch(raw_month):
            dt.date(int(match[1]), int(match[2]), 1)
            return redirect(reverse("papers:month", args=[f"{match[1]}-{int(match[2]):02d}"]) + suffix)
    except ValueError:
        pass
    return redirect(reverse("papers:latest") + suffix)
