from paperfeed.papers.views.archive import DayView, LatestView, MonthView, WeekView, go_to_date
from paperfeed.papers.views.papers import AllPapersView, PaperDetailView, TrendingView
from paperfeed.papers.views.people import AuthorView, OrganizationView

__all__ = [
    "AllPapersView", "AuthorView", "DayView", "LatestView", "MonthView", "OrganizationView",
    "PaperDetailView", "TrendingView", "WeekView", "go_to_date",
]
