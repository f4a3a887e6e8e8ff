from django.urls import path

from proposals.views import attachments, calls, editing, lifecycle, manage_proposals, team

urlpatterns = [
    # Calls (public and managers')
    path("calls/", calls.call_list, name="call_list"),
    path("calls/<int:pk>/", calls.call_detail, name="call_detail"),
    path("manage/calls/", calls.manage_call_list, name="manage_call_list"),
    path("manage/calls/new/", calls.manage_call_create, name="manage_call_create"),
    path("manage/calls/<int:pk>/edit/", calls.manage_call_edit, name="manage_call_edit"),
    path(
        "manage/calls/<int:pk>/next-cycle/",
        calls.manage_call_next_cycle,
        name="manage_call_next_cycle",
    ),
    path("manage/calls/<int:pk>/archive/", calls.manage_call_archive, name="manage_call_archive"),
    path("manage/calls/<int:pk>/people/", calls.manage_call_people, name="manage_call_people"),
    path(
        "manage/calls/<int:pk>/people/<int:role_pk>/remove/",
        calls.manage_call_role_remove,
        name="manage_call_role_remove",
    ),
    # A researcher's proposals: lifecycle
    path("calls/<int:pk>/apply/", lifecycle.proposal_start, name="proposal_start"),
    path("proposals/", lifecycle.my_proposals, name="my_proposals"),
    path("proposals/<int:pk>/", lifecycle.proposal_detail, name="proposal_detail"),
    path("proposals/<int:pk>/submit/", lifecycle.proposal_submit, name="proposal_submit"),
    path("proposals/<int:pk>/unsubmit/", lifecycle.proposal_unsubmit, name="proposal_unsubmit"),
    path("proposals/<int:pk>/withdraw/", lifecycle.proposal_withdraw, name="proposal_withdraw"),
    path(
        "proposals/<int:pk>/versions/<int:number>/",
        lifecycle.proposal_version,
        name="proposal_version",
    ),
    # Editing the sections general, resources, technical
    path("proposals/<int:pk>/edit/<str:section>/", editing.proposal_edit, name="proposal_edit"),
    # Team
    path("proposals/<int:pk>/team/", team.proposal_team, name="proposal_team"),
    path("proposals/<int:pk>/team/invite/", team.team_invite, name="team_invite"),
    path("proposals/<int:pk>/team/<int:member_pk>/remove/", team.team_remove, name="team_remove"),
    path("invitations/<str:token>/", team.invitation, name="invitation"),
    # Attachments
    path(
        "proposals/<int:pk>/attachments/",
        attachments.proposal_attachments,
        name="proposal_attachments",
    ),
    path(
        "proposals/<int:pk>/attachments/<int:attachment_pk>/download/",
        attachments.attachment_download,
        name="attachment_download",
    ),
    path(
        "proposals/<int:pk>/attachments/<int:attachment_pk>/remove/",
        attachments.attachment_remove,
        name="attachment_remove",
    ),
    # Managers
    path(
        "manage/calls/<int:pk>/proposals/",
        manage_proposals.manage_call_proposals,
        name="manage_call_proposals",
    ),
]
