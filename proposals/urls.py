from django.urls import path

from proposals.views import calls as views

urlpatterns = [
    path("calls/", views.call_list, name="call_list"),
    path("calls/<int:pk>/", views.call_detail, name="call_detail"),
    path("manage/calls/", views.manage_call_list, name="manage_call_list"),
    path("manage/calls/new/", views.manage_call_create, name="manage_call_create"),
    path("manage/calls/<int:pk>/edit/", views.manage_call_edit, name="manage_call_edit"),
    path(
        "manage/calls/<int:pk>/next-cycle/",
        views.manage_call_next_cycle,
        name="manage_call_next_cycle",
    ),
    path("manage/calls/<int:pk>/archive/", views.manage_call_archive, name="manage_call_archive"),
    path("manage/calls/<int:pk>/people/", views.manage_call_people, name="manage_call_people"),
    path(
        "manage/calls/<int:pk>/people/<int:role_pk>/remove/",
        views.manage_call_role_remove,
        name="manage_call_role_remove",
    ),
]
