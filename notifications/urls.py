from django.urls import path

from notifications import views

urlpatterns = [
    path("", views.outbox_list, name="outbox_list"),
    path("<int:message_id>/", views.outbox_detail, name="outbox_detail"),
    path("<int:message_id>/retry/", views.outbox_retry, name="outbox_retry"),
]
