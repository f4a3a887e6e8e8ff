"""Helpers for the call pages' tests: guards and the call form's POST data."""

from decimal import Decimal
from urllib.parse import urlencode

from django.urls import reverse

from proposals.calls.models import Call
from tests.conftest import force_login_without_second_factor, make_manager
from tests.factories import make_resource


def login_url_for(path: str) -> str:
    return f"{reverse('account_login')}?next={path}"


def second_factor_url(name: str, back: str = "/") -> str:
    """Where manager_required sends a manager whose session lacks the second factor:
    ``mfa_activate_totp`` without an authenticator, ``mfa_reauthenticate`` with one; ``back``
    is the page they asked for (the home page after a form post without a referer)."""
    return f"{reverse(name)}?{urlencode({'next': back})}"


def assert_guarded(client, pi, url: str, method: str = "get") -> None:
    """Anonymous → sign-in page; an applicant → 403; a manager without an authenticator → its
    set-up; a manager whose session did not use it → confirming it (PRODUCT §1.1)."""
    send = getattr(client, method)
    back = url if method == "get" else "/"
    response = send(url)
    assert response.status_code == 302
    assert response["Location"] == login_url_for(url)

    client.force_login(pi)
    assert send(url).status_code == 403

    client.force_login(make_manager("nomfa@centre.example", with_mfa=False))
    response = send(url)
    assert response.status_code == 302
    assert response["Location"] == second_factor_url("mfa_activate_totp", back)

    force_login_without_second_factor(client, make_manager("password-only@centre.example"))
    response = send(url)
    assert response.status_code == 302
    assert response["Location"] == second_factor_url("mfa_reauthenticate", back)


def _management(prefix: str, total: int, initial: int = 0) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


DEFAULT_CALL_FIELDS = {
    "code": "JUPITER 2027-1",
    "name": "JUPITER 2027-1: AI at scale",
    "reference_prefix": "JUP27-1",
    "description": "Compute time for AI.",
    "guidelines": "Line one.\nLine two.",
    "time_zone": "Europe/Berlin",
    "opens_at": "2026-11-01T09:00:00",
    "closes_at": "2027-01-15T17:00:00",
    "review_due_at": "2027-02-28T17:00:00",
    "reply_opens_at": "",
    "reply_closes_at": "",
    "decisions_due_at": "2027-03-31T17:00:00",
    "period_start": "2027-05-01",
    "period_end": "2028-04-30",
    "reviewers_per_proposal": "2",
    "technical_review": "on",
    "review_visibility": "after_own",
    "fundable_threshold": "3.00",
    "reply_length_limit": "3000",
    "pdf_page_limit": "10",
    "pdf_size_limit_mb": "10",
    "quota_policy": "monthly",
}


def call_post_data(
    *,
    budgets: list[dict] | None = None,
    criteria: list[dict] | None = None,
    budgets_initial: int = 0,
    criteria_initial: int = 0,
    **fields: str,
) -> dict[str, str]:
    """The create/edit form as a browser posts it. Rows are dicts of their fields."""
    if budgets is None:
        resource = make_resource()
        budgets = [
            {
                "resource": str(resource.pk),
                "budget": "1000000",
                "min_request": "1000",
                "max_request": "200000",
            }
        ]
    if criteria is None:
        criteria = [
            {
                "name": "Excellence",
                "description": "",
                "weight": "2",
                "scale_min": "0",
                "scale_max": "5",
            }
        ]
    data = {**DEFAULT_CALL_FIELDS, **fields}
    data = {key: value for key, value in data.items() if value is not None}
    data.update(_management("budgets", len(budgets), budgets_initial))
    data.update(_management("criteria", len(criteria), criteria_initial))
    for index, row in enumerate(budgets):
        data.update({f"budgets-{index}-{key}": value for key, value in row.items()})
    for index, row in enumerate(criteria):
        data.update({f"criteria-{index}-{key}": value for key, value in row.items()})
    return data


def edit_post_data(call: Call, **fields: str) -> dict[str, str]:
    """The edit form of ``call`` posted back unchanged, except for ``fields``."""
    zone = call.tz

    def local(value):
        return value.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S") if value else ""

    current = {
        "code": call.code,
        "name": call.name,
        "reference_prefix": call.reference_prefix,
        "description": call.description,
        "guidelines": call.guidelines,
        "time_zone": call.time_zone,
        "opens_at": local(call.opens_at),
        "closes_at": local(call.closes_at),
        "review_due_at": local(call.review_due_at),
        "reply_opens_at": local(call.reply_opens_at),
        "reply_closes_at": local(call.reply_closes_at),
        "decisions_due_at": local(call.decisions_due_at),
        "period_start": call.period_start.isoformat(),
        "period_end": call.period_end.isoformat(),
        "reviewers_per_proposal": str(call.reviewers_per_proposal),
        "technical_review": "on" if call.technical_review else None,
        "right_of_reply": "on" if call.right_of_reply else None,
        "review_visibility": call.review_visibility,
        "fundable_threshold": str(call.fundable_threshold),
        "reply_length_limit": str(call.reply_length_limit),
        "pdf_page_limit": str(call.pdf_page_limit),
        "pdf_size_limit_mb": str(call.pdf_size_limit_mb),
        "quota_policy": call.quota_policy,
    }
    budgets = [
        {
            "id": str(row.pk),
            "call": str(call.pk),
            "resource": str(row.resource_id),
            "budget": str(row.budget),
            "min_request": str(row.min_request),
            "max_request": str(row.max_request),
        }
        for row in call.call_resources.all()
    ]
    criteria = [
        {
            "id": str(row.pk),
            "call": str(call.pk),
            "name": row.name,
            "description": row.description,
            "weight": str(row.weight),
            "scale_min": str(row.scale_min),
            "scale_max": str(row.scale_max),
        }
        for row in call.criteria.all()
    ]
    return call_post_data(
        budgets=budgets,
        criteria=criteria,
        budgets_initial=len(budgets),
        criteria_initial=len(criteria),
        **{**current, **fields},
    )


def amounts(call: Call) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    return [
        (row.resource.code, row.budget, row.min_request, row.max_request)
        for row in call.call_resources.select_related("resource").order_by("resource__code")
    ]


def criteria_of(call: Call) -> list[tuple[str, str, Decimal, int, int, int]]:
    return [
        (row.name, row.description, row.weight, row.scale_min, row.scale_max, row.position)
        for row in call.criteria.order_by("position")
    ]
