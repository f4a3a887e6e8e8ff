"""Who sees what through the API (PRODUCT §1.1, §9): the pages' visibility walk
(``tests/proposals/test_visibility.py``), extended to every endpoint × persona, with a token
per persona, and the anonymous caller, an expired and a revoked token.

The same world: proposal P (SECRET-P…) with its team (pi, coi), its reviewers (one assigned,
one in conflict), a committee member in conflict, another applicant's proposal Q; plus an
allocation of P's PI with coi as a member, and a usage push by the manager. Every response
body is searched for the markers that role must not see (``leaks`` of the pages' walk).
"""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from api.enums import TokenScope
from api.models import ApiToken, UsagePush
from proposals.calls.enums import ReviewVisibility
from tests.allocation_factories import make_allocation
from tests.api.conftest import bearer, token_for
from tests.proposals.test_visibility import P_ACRONYM, P_TITLE, build, leaks

pytestmark = pytest.mark.django_db

PERSONAS = (
    "pi",
    "coi",
    "applicant",
    "assigned_reviewer",
    "other_reviewer",
    "conflicted_reviewer",
    "committee",
    "conflicted_committee",
    "manager",
)
NO_ACCESS = ("anonymous", "expired", "revoked", "malformed")
ENDPOINTS = (
    "calls",
    "call",
    "proposals",
    "proposal",
    "reviews",
    "ranking",
    "decisions",
    "call_allocations",
    "allocations",
    "ledger",
    "usage_push",
    "usage_status",
    "slurm_plan",
)
PUBLIC = {"calls", "call"}
EVERY_TOKEN = {"proposals", "reviews", "allocations"}
P_READERS = {"pi", "coi", "assigned_reviewer", "committee", "manager"}
RANKING_READERS = {"committee", "conflicted_committee", "manager"}
ALLOCATION_READERS = {"pi", "coi", "manager"}


def expected_status(persona: str, endpoint: str) -> int:
    if endpoint in PUBLIC:
        return 200
    if persona in NO_ACCESS:
        return 401
    if endpoint in EVERY_TOKEN:
        return 200
    if endpoint == "proposal":
        return 200 if persona in P_READERS else 404
    if endpoint in {"ranking", "decisions"}:
        return 200 if persona in RANKING_READERS else 403
    if endpoint in {"call_allocations", "slurm_plan"}:
        return 200 if persona == "manager" else 403
    if endpoint == "ledger":
        return 200 if persona in ALLOCATION_READERS else 404
    if endpoint == "usage_status":
        return 200 if persona == "manager" else 404
    if endpoint == "usage_push":
        return 202 if persona == "manager" else 403
    raise AssertionError(endpoint)


SACCT = (
    "JobIDRaw|Cluster|Account|User|Partition|State|Start|End|ElapsedRaw|AllocTRES\n"
    "9001|jupiter|{account}|pi|booster|COMPLETED|2027-06-01T10:00:00|2027-06-01T12:00:00|"
    "7200|billing=96,cpu=288,gres/gpu=4,mem=480G,node=1\n"
)


@pytest.fixture
def world(db, tmp_path, settings):
    cache.clear()
    settings.MEDIA_ROOT = tmp_path
    world = build(ReviewVisibility.AFTER_OWN, "reply_open")
    pi, coi, manager = world.people["pi"], world.people["coi"], world.people["manager"]
    allocation = make_allocation(pi=pi, members=[coi])
    tokens = {persona: token_for(world.people[persona], TokenScope.READ) for persona in PERSONAS}
    tokens["manager"] = token_for(manager, TokenScope.USAGE)
    tokens["anonymous"] = None
    tokens["malformed"] = "allot_not-a-token"
    tokens["revoked"] = token_for(pi)
    ApiToken.objects.filter(pk=ApiToken.objects.latest("pk").pk).update(revoked_at=timezone.now())
    tokens["expired"] = token_for(pi)
    now = timezone.now()
    ApiToken.objects.filter(pk=ApiToken.objects.latest("pk").pk).update(
        created_at=now - timedelta(days=40), expires_at=now - timedelta(seconds=1)
    )
    push = UsagePush.objects.create(
        by=manager, cluster="jupiter", size=0, sha256="0" * 64, created_at=now, file="x.txt"
    )
    paths = {
        "calls": "/calls",
        "call": f"/calls/{world.call.pk}",
        "proposals": "/proposals",
        "proposal": f"/proposals/{world.proposal.pk}",
        "reviews": "/reviews",
        "ranking": f"/calls/{world.call.pk}/ranking",
        "decisions": f"/calls/{world.call.pk}/decisions",
        "call_allocations": f"/calls/{allocation.proposal.call_id}/allocations",
        "allocations": "/allocations",
        "ledger": f"/allocations/{allocation.pk}/ledger",
        "usage_push": "/usage",
        "usage_status": f"/usage/{push.pk}",
        "slurm_plan": "/slurm/jupiter/plan",
    }
    return world, tokens, paths, allocation


def call_endpoint(client, endpoint: str, path: str, token: str | None, account: str):
    if endpoint == "usage_push":
        from django.core.files.uploadedfile import SimpleUploadedFile

        upload = SimpleUploadedFile("usage.txt", SACCT.format(account=account).encode())
        return client.post(
            f"/api/v1{path}", {"cluster": "jupiter", "file": upload}, **bearer(token)
        )
    return client.get(f"/api/v1{path}", **bearer(token))


def test_every_endpoint_for_every_persona(client, world):
    world, tokens, paths, allocation = world
    problems = []
    for persona in PERSONAS + NO_ACCESS:
        for endpoint in ENDPOINTS:
            response = call_endpoint(
                client, endpoint, paths[endpoint], tokens[persona], allocation.account
            )
            wanted = expected_status(persona, endpoint)
            if response.status_code != wanted:
                problems.append(f"{persona} {endpoint}: {response.status_code}, expected {wanted}")
            role = "applicant" if persona in NO_ACCESS else persona
            found = leaks(role, response, ReviewVisibility.AFTER_OWN, "reply_open")
            if found:
                problems.append(f"{persona} {endpoint} ({response.status_code}) shows {found}")
            if response.status_code >= 400:
                assert set(response.json()) == {"detail"}, (persona, endpoint)
    assert problems == []


def _acronyms(rows) -> set[str]:
    return {row["acronym"] for row in rows}


def test_what_each_persona_reads(client, world):
    """The rows behind the statuses: P where it may be seen, and nowhere else."""
    world, tokens, paths, allocation = world

    def get(persona, endpoint):
        return client.get(f"/api/v1{paths[endpoint]}", **bearer(tokens[persona])).json()

    awarded = allocation.proposal.acronym
    assert _acronyms(get("pi", "proposals")) == {P_ACRONYM, awarded}
    assert _acronyms(get("coi", "proposals")) == {P_ACRONYM}
    assert _acronyms(get("applicant", "proposals")) == {"QPROP"}
    assert get("committee", "proposals") == []
    detail = get("pi", "proposal")
    assert (detail["title"], detail["reference"], detail["status"]) == (
        P_TITLE,
        "JUP27-1-0001",
        "submitted",
    )
    assert [(m["name"], m["role"]) for m in detail["team"]] == [
        ("Paula Investigator", "pi"),
        ("Carl Coinvestigator", "co-investigator"),
    ]
    assert [v["number"] for v in detail["versions"]] == [1]
    assert [(a["kind"], a["current"]) for a in detail["attachments"]] == [("description", True)]
    assert detail["excluded_reviewers"] is None
    assert get("manager", "proposal")["excluded_reviewers"] is not None
    reviews = get("assigned_reviewer", "reviews")
    assert _acronyms(reviews["reviews"]) == {P_ACRONYM}
    assert _acronyms(get("conflicted_reviewer", "reviews")["reviews"]) == {"QPROP"}
    assert _acronyms(get("committee", "ranking")["rows"]) == {P_ACRONYM, "QPROP"}
    conflicted = get("conflicted_committee", "ranking")
    assert (_acronyms(conflicted["rows"]), conflicted["hidden"]) == ({"QPROP"}, 1)
    assert _acronyms(get("conflicted_committee", "decisions")["rows"]) == {"QPROP"}
    assert [a["account"] for a in get("pi", "allocations")] == [allocation.account]
    assert [a["account"] for a in get("coi", "allocations")] == [allocation.account]
    assert get("applicant", "allocations") == []
    assert [a["account"] for a in get("manager", "call_allocations")] == [allocation.account]
