"""Bad input never answers 500 (issue 11), anywhere: every URL of the URL conf, as each
persona, takes a GET with hostile query values and a POST with hostile form values, and
answers a refusal, never a server error. A NUL matters on PostgreSQL (it cannot store one);
run with ``DATABASE_URL=postgres://…`` too. The URLs come from the URL conf, so a new page is
tried without anyone adding it here.
"""

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from accounts.models import User
from proposals.review.models import Review
from proposals.submission.models import TeamMember
from proposals.submission.views.editing import EDITORS
from tests.allocation_factories import make_allocation
from tests.conftest import PASSWORD, make_manager, make_user
from tests.factories import make_call
from tests.hostile import invited_review, open_for_reply
from tests.proposal_factories import add_member
from tests.second_factor import sign_in_with_totp
from tests.url_walk import app_urls, every_route_with

pytestmark = pytest.mark.django_db

# Every name a form of the project reads, and a few more.
FIELDS = (  # noqa: SIM905 (65 names read better as words)
    "text detail reviewer kind email role max_load reason note amount decision action confirm "
    "archive status page show next suggestion title acronym abstract field keywords "
    "pi_affiliation pi_country previous_allocations excluded_reviewers codes job_size "
    "wall_time memory storage code name reference_prefix description guidelines time_zone "
    "full_name affiliation country orcid expertise lock_version loaded message outcome "
    "resource comment_to_applicant confidential_comment recommendation verdict no_conflict q "
    "new_end under_use state call budget weight add_row continue save take_theirs"
).split()
HOSTILE = ["a\x00b", "\u202e\u2066x", "\u200b", "9" * 30, "-1", "1e999", "NaN", "\x00"]
# A NUL in every field; then each field a different one of the values.
VALUES = {
    "nul": dict.fromkeys(FIELDS, "a\x00b"),
    "mixed": {field: HOSTILE[n % len(HOSTILE)] for n, field in enumerate(FIELDS)},
}
# The admin has its own forms (operators only); signing out would end the persona's session.
SKIPPED = ("admin/", "accounts/logout/")


@pytest.fixture
def world(pi, coi, reviewer):
    proposal = open_for_reply(pi, reviewer, make_manager("opener@centre.example"))
    add_member(proposal, coi)
    draft_call = make_call("JUPITER 2027-2")
    second = make_user("second@review.example")
    invited = invited_review(proposal, second)
    allocation = make_allocation(pi=pi, members=[coi])
    return {
        "pk": {proposal.call_id, draft_call.pk, proposal.pk, allocation.pk},
        "review_pk": set(Review.objects.values_list("pk", flat=True)),
        "member_pk": set(TeamMember.objects.values_list("pk", flat=True)),
        "second": second,
        "invited": invited,
    }


def personas(world, pi, reviewer) -> dict[str, Client]:
    clients = {}
    for name, user in [("pi", pi), ("reviewer", reviewer), ("invited", world["second"])]:
        clients[name] = Client(raise_request_exception=True)
        clients[name].force_login(user)
    clients["manager"] = sign_in_with_totp(make_manager())
    root = User.objects.create_superuser(email="root@centre.example", password=PASSWORD)
    EmailAddress.objects.create(user=root, email=root.email, verified=True, primary=True)
    clients["superuser"] = sign_in_with_totp(root)
    clients["anonymous"] = Client(raise_request_exception=True)
    return clients


def urls(world) -> list[str]:
    return app_urls(
        skip_prefixes=SKIPPED,
        values={
            "pk": world["pk"],
            "review_pk": world["review_pk"],
            "member_pk": world["member_pk"],
            "section": EDITORS.keys(),
            **{name: [1] for name in ("number", "role_pk", "attachment_pk", "proposal_pk")},
            **{name: [1] for name in ("conflict_pk", "request_pk")},
        },
    )


@pytest.mark.parametrize("values", VALUES)
def test_no_page_answers_hostile_values_with_a_server_error(world, pi, reviewer, values):
    clients = personas(world, pi, reviewer)
    pages = urls(world)
    data = VALUES[values]
    answered = {}

    for name, client in clients.items():
        for url in pages:
            for method in ("get", "post"):
                response = getattr(client, method)(url, data)
                answered[(name, method, url)] = response.status_code

    errors = {key: status for key, status in answered.items() if status >= 500}
    assert errors == {}
    assert len(answered) == len(clients) * len(pages) * 2


@pytest.mark.parametrize("value", ["a%00b", "%01", "%E2%80%AE", "a%0Ab", "9" * 30])
def test_no_address_answers_with_a_server_error(pi, value):
    client = Client(raise_request_exception=True)
    client.force_login(pi)
    paths = every_route_with(value)

    answered = {path: client.get(path).status_code for path in paths}

    assert {path: status for path, status in answered.items() if status >= 500} == {}
    assert answered[f"/invitations/{value}/"] in {400, 404}
    assert len(paths) > 100


def test_an_address_with_a_control_character_is_a_bad_request(client):
    response = client.get("/invitations/a%00b/")

    assert response.status_code == 400
    assert response.content.decode() == (
        "This address holds a control character; no page has such an address."
    )
