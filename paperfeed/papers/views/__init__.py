from paperfeed.papers.views.archive import DayView, LatestView, MonthView, WeekView, go_to_date
from paperfeed.papers.views.papers import AllPapersView, PaperDetailView, TrendingView

__all__ = [
    "AllPapersView", "DayView", "LatestView", "MonthView", "PaperDetailView", "TrendingView",
    "WeekView", "go_to_date",
]
