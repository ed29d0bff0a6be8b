from django.urls import path

from paperfeed.api.http import conditional_view
from paperfeed.recommend import feeds, views

app_name = "recommend"
urlpatterns = [
    # Before papers' catch-all /papers/<id> ("for-you" is a reserved slug).
    path("papers/for-you", views.for_you, name="for_you"),
    path("papers/for-you/settings", views.preferences, name="preferences"),
    path("papers/for-you/feedback/<int:paper_id>", views.feedback, name="feedback"),
    path("papers/for-you/feed/renew", views.renew_feed, name="renew_feed"),
    path("papers/for-you/feed/<str:token>.rss", conditional_view(feeds.ForYouFeed()), name="feed_rss"),
    path("papers/for-you/feed/<str:token>.atom", conditional_view(feeds.ForYouAtomFeed()), name="feed_atom"),
    path("papers/more-like/<path:public_id>", views.more_like, name="more_like"),
]
