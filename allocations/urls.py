from django.urls import path

from accounts.exports import FORMATS
from allocations.views import audit, exports, manage, publishing, researcher
from allocations.views.requests import request_decide

urlpatterns = [
    # Publishing decisions and the waitlist (managers)
    path("manage/calls/<int:pk>/publish/", publishing.decisions_publish, name="decisions_publish"),
    path(
        "manage/calls/<int:pk>/waitlist/<int:proposal_pk>/promote/",
        publishing.waitlist_promote,
        name="waitlist_promote",
    ),
    # The PI's answer to an award (declining forfeits the allocation's hours)
    path(
        "proposals/<int:pk>/decision/respond/",
        publishing.decision_respond,
        name="decision_respond",
    ),
    # The final report of the allocation a proposal continues, for the proposal's readers
    path(
        "proposals/<int:pk>/earlier-report/",
        researcher.earlier_final_report_download,
        name="proposal_earlier_report",
    ),
    # Researchers
    path("allocations/", researcher.my_allocations, name="my_allocations"),
    path("allocations/<int:pk>/", researcher.allocation_detail, name="allocation_detail"),
    path("allocations/<int:pk>/chart.svg", researcher.allocation_chart, name="allocation_chart"),
    path("allocations/<int:pk>/members/", researcher.member_add, name="allocation_member_add"),
    path(
        "allocations/<int:pk>/members/<int:member_pk>/remove/",
        researcher.member_remove,
        name="allocation_member_remove",
    ),
    path("allocations/<int:pk>/requests/", researcher.request_more, name="allocation_request"),
    path("allocations/<int:pk>/report/", researcher.final_report, name="allocation_report"),
    path(
        "allocations/<int:pk>/report/download/",
        researcher.final_report_download,
        name="allocation_report_download",
    ),
    path("allocations/<int:pk>/logins/", manage.cluster_logins, name="allocation_cluster_logins"),
    # Managers
    path("manage/allocations/", manage.manage_allocations, name="manage_allocations"),
    *[
        path(
            f"manage/allocations/export.{fmt}",
            exports.allocations_export,
            {"fmt": fmt},
            name=f"allocations_export_{fmt}",
        )
        for fmt in FORMATS
    ],
    *[
        path(
            f"allocations/<int:pk>/usage.{fmt}",
            exports.usage_export,
            {"fmt": fmt},
            name=f"allocation_usage_{fmt}",
        )
        for fmt in FORMATS
    ],
    path("manage/allocations/<int:pk>/", manage.manage_allocation, name="manage_allocation"),
    path("manage/allocations/<int:pk>/adjust/", manage.allocation_adjust, name="allocation_adjust"),
    path("manage/requests/<int:request_pk>/decide/", request_decide, name="request_decide"),
    path("manage/calls/<int:pk>/audit/", audit.call_audit, name="call_audit"),
    path("manage/audit/", audit.audit_trail, name="audit_trail"),
    path("manage/audit/export.csv", audit.audit_export, name="audit_export"),
]
