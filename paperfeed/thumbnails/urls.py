from django.urls import re_path

from paperfeed.thumbnails import views

app_name = "thumbnails"
urlpatterns = [
    # Only a digest's shape, so the name can never step out of the thumbnail folder.
    re_path(r"^thumbnails/(?P<digest>[0-9a-f]{20})\.webp$", views.image, name="image"),
]
