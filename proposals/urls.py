from django.urls import path

from accounts import views

urlpatterns = [
    path("calls/", views.home, name="call_list"),  # replaced by the call views
    path("manage/calls/", views.home, name="manage_call_list"),
]
