from django.urls import path

from accounts import views

urlpatterns = [
    path("", views.home, name="profile"),  # replaced by the profile view
]
