from django.urls import path

from paperfeed.digests import views

app_name = "digests"
urlpatterns = [
    path("digest/subscribe", views.subscribe, name="subscribe"),
    path("digest/subscribe/sent", views.subscribe_sent, name="subscribe_sent"),
    path("digest/confirm/<str:token>", views.confirm, name="confirm"),
    path("digest/manage/<str:token>", views.manage, name="manage"),
    path("digest/unsubscribe/<str:token>", views.unsubscribe, name="unsubscribe"),
]
