from django.urls import path, register_converter

from paperfeed.papers import views
from paperfeed.papers.pagecache import cached_page
from paperfeed.papers.pagegen import by_paper


class IsoDateConverter:
    regex = r"\d{4}-\d{2}-\d{2}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(IsoDateConverter, "isodate")

app_name = "papers"
urlpatterns = [
    path("papers", cached_page(members=True)(views.LatestView.as_view()), name="latest"),
    path("papers/trending", cached_page(members=True)(views.TrendingView.as_view()), name="trending"),
    path("papers/all", views.AllPapersView.as_view(), name="all"),
    path("papers/go", views.go_to_date, name="go"),
    path("papers/date/<isodate:date>", cached_page(members=True)(views.DayView.as_view()), name="day"),
    path("papers/week/<str:week>", cached_page(members=True)(views.WeekView.as_view()), name="week"),
    path("papers/month/<str:month>", cached_page(members=True)(views.MonthView.as_view()), name="month"),
    # Names may hold any character, a slash included; reverse() quotes them.
    path("papers/authors/<path:name>", views.AuthorView.as_view(), name="author"),
    path("papers/organizations/<path:name>", views.OrganizationView.as_view(),
         name="organization"),
    # Old-style arXiv ids contain a slash (hep-th/9901001).
    # A paper's page is retired by changes to that paper, not to every paper.
    path("papers/<path:public_id>",
         cached_page(members=True, scope=by_paper)(views.PaperDetailView.as_view()),
         name="detail"),
]
