from django.urls import path

from accounts.exports import FORMATS
from proposals.calls import views as calls
from proposals.decisions import views as decisions
from proposals.home import views as home
from proposals.review.views import assignment, conflicts, ranking, reply, reviewing
from proposals.submission.views import attachments, editing, lifecycle, team
from proposals.submission.views import manage as manage_proposals

urlpatterns = [
    # What waits for the signed-in person (PRODUCT §9); where sign-in lands
    path("", home.home, name="home"),
    # Calls (public and managers')
    path("calls/", calls.call_list, name="call_list"),
    path("calls/<int:pk>/", calls.call_detail, name="call_detail"),
    path("manage/calls/", calls.manage_call_list, name="manage_call_list"),
    path("manage/calls/new/", calls.manage_call_create, name="manage_call_create"),
    path("manage/calls/<int:pk>/", decisions.manage_call_dashboard, name="manage_call_dashboard"),
    path("manage/statistics/", decisions.manage_statistics, name="manage_statistics"),
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
    # Peer review: conflicts of interest (managers confirm or dismiss)
    path("manage/calls/<int:pk>/conflicts/", conflicts.manage_conflicts, name="manage_conflicts"),
    path(
        "manage/conflicts/<int:conflict_pk>/decide/",
        conflicts.conflict_decide,
        name="conflict_decide",
    ),
    # Peer review: assignment (suggestion, apply, manual assign, remove, reopen)
    path(
        "manage/calls/<int:pk>/assignment/", assignment.manage_assignment, name="manage_assignment"
    ),
    path(
        "manage/calls/<int:pk>/assignment/suggest/",
        assignment.assignment_suggest,
        name="assignment_suggest",
    ),
    path(
        "manage/calls/<int:pk>/assignment/apply/",
        assignment.assignment_apply,
        name="assignment_apply",
    ),
    path(
        "manage/proposals/<int:pk>/assign/", assignment.review_assign_manual, name="review_assign"
    ),
    path("manage/reviews/<int:review_pk>/remove/", assignment.review_remove, name="review_remove"),
    path("manage/reviews/<int:review_pk>/reopen/", reviewing.review_reopen, name="review_reopen"),
    # Peer review: the reviewer's side
    path("reviews/", reviewing.my_reviews, name="my_reviews"),
    path("reviews/<int:review_pk>/", reviewing.review_detail, name="review_detail"),
    path("reviews/<int:review_pk>/respond/", reviewing.review_respond, name="review_respond"),
    path("reviews/<int:review_pk>/edit/", reviewing.review_edit, name="review_edit"),
    path("proposals/<int:pk>/conflict/", conflicts.conflict_declare, name="conflict_declare"),
    # Reading reviews, ranking, the right of reply
    path("proposals/<int:pk>/reviews/", ranking.proposal_reviews, name="proposal_reviews"),
    path("calls/<int:pk>/ranking/", ranking.call_ranking, name="call_ranking"),
    *[
        path(f"calls/<int:pk>/ranking.{fmt}", ranking.call_ranking_export, {"fmt": fmt}, name=name)
        for fmt, name in (("csv", "call_ranking_csv"), ("xlsx", "call_ranking_xlsx"))
    ],
    path("manage/calls/<int:pk>/reply-window/", reply.reply_window_open, name="reply_window_open"),
    path("proposals/<int:pk>/reply/", reply.proposal_reply, name="proposal_reply"),
    # Decisions and awards (PRODUCT §6)
    path("manage/calls/<int:pk>/decisions/", decisions.manage_decisions, name="manage_decisions"),
    path(
        "manage/calls/<int:pk>/decisions/suggest/",
        decisions.decisions_suggest,
        name="decisions_suggest",
    ),
    path("proposals/<int:pk>/decision/", decisions.decision_detail, name="decision_detail"),
    path("calls/<int:pk>/book/", decisions.call_book, name="call_book"),
    path("calls/<int:pk>/book.pdf", decisions.call_book_download, name="call_book_download"),
    # Exports (PRODUCT §9): proposals and decisions for managers, reviews for the committee
    *[
        path(
            f"manage/calls/<int:pk>/{what}.{fmt}",
            decisions.manage_call_export,
            {"what": what, "fmt": fmt},
            name=f"manage_call_{what}_{fmt}",
        )
        for what in ("proposals", "decisions")
        for fmt in FORMATS
    ],
    *[
        path(
            f"calls/<int:pk>/reviews.{fmt}",
            decisions.call_reviews_export,
            {"fmt": fmt},
            name=f"call_reviews_{fmt}",
        )
        for fmt in FORMATS
    ],
    # The PI's answer to an award (decision_respond) is in allocations/urls.py: declining
    # forfeits the allocation's hours, and proposals never imports allocations.
]
