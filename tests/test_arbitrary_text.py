"""Any text typed into the main forms is saved or refused with a message, never a server error
(issue 11; hypothesis). Run on PostgreSQL too, where a NUL cannot be stored."""

import operator

from allauth.account.models import EmailAddress
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from proposals.calls.enums import CallRoleKind
from proposals.review.enums import ReviewState
from proposals.review.models import Review
from tests.allocation_factories import make_allocation
from tests.conftest import make_manager, make_user
from tests.factories import make_call
from tests.hostile import invited_review, open_for_reply
from tests.proposal_factories import make_proposal
from tests.proposals.helpers import call_post_data
from tests.second_factor import sign_in_with_totp

TRICKY = [
    "\x00",
    "a\x00b",
    "\u202eevil",
    "\u2066\u2069",
    "\u200b\u200b",
    "\u3164",
    "\ufeff",
    " ",
    "\r\n\r\n",
    "\t",
    "\x1b[31m",
    "%00",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "9" * 40,
    "-0",
    "1e309",
]
texts = st.one_of(
    st.text(max_size=60),
    st.sampled_from(TRICKY),
    st.builds(operator.mul, st.sampled_from(["x", "é", "\n", "\x00"]), st.integers(0, 25_000)),
    st.lists(st.sampled_from(TRICKY), max_size=4).map("".join),
)
EXAMPLES = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def typed(*names: str) -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries(dict.fromkeys(names, texts))


class ArbitraryTextTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.pi = make_user("pi@uni.example", full_name="Paula Investigator")
        cls.reviewer = make_user("reviewer@inst.example", full_name="Rita Reviewer")
        cls.second = make_user("second@inst.example", full_name="Sam Second")
        cls.manager = make_manager()
        cls.submitted = open_for_reply(cls.pi, cls.reviewer, cls.manager)
        cls.call = cls.submitted.call
        cls.invited = invited_review(cls.submitted, cls.second)
        cls.draft = make_proposal(make_call("JUPITER 2027-2"), cls.pi, title="Draft")
        cls.allocation = make_allocation(pi=cls.pi)

    def post(self, user, url: str, data: dict) -> int:
        self.client.force_login(user)
        status = self.client.post(url, data).status_code
        assert status < 500, (url, data)
        return status

    @EXAMPLES
    @given(typed("full_name", "affiliation", "orcid", "keywords"))
    def test_profile(self, values):
        data = {"country": "DE", "expertise": ["PE6"], "time_zone": "Europe/Berlin", **values}
        self.post(self.pi, reverse("profile"), data)

    @EXAMPLES
    @given(
        typed(
            "title",
            "acronym",
            "abstract",
            "keywords",
            "pi_affiliation",
            "previous_allocations",
            "excluded_reviewers",
            "lock_version",
        )
    )
    def test_general_section(self, values):
        data = {"lock_version": str(self.draft.lock_version), "save": "draft", **values}
        self.post(self.pi, reverse("proposal_edit", args=[self.draft.pk, "general"]), data)

    @EXAMPLES
    @given(typed("codes", "job_size", "wall_time", "memory", "storage", "scaling-0-gpus"))
    def test_technical_section(self, values):
        data = {
            "lock_version": str(self.draft.lock_version),
            "save": "draft",
            "scaling-TOTAL_FORMS": "1",
            "scaling-INITIAL_FORMS": "0",
            **values,
        }
        self.post(self.pi, reverse("proposal_edit", args=[self.draft.pk, "technical"]), data)

    @EXAMPLES
    @given(texts, texts)
    def test_resources_section(self, amount, justification):
        offer = self.draft.call.call_resources.get()
        data = {
            "lock_version": str(self.draft.lock_version),
            "save": "draft",
            f"request-{offer.pk}-amount": amount,
            f"request-{offer.pk}-justification": justification,
        }
        self.post(self.pi, reverse("proposal_edit", args=[self.draft.pk, "resources"]), data)

    @EXAMPLES
    @given(typed("text"))
    def test_reply(self, values):
        self.post(self.pi, reverse("proposal_reply", args=[self.submitted.pk]), values)

    @EXAMPLES
    @given(typed("detail"))
    def test_conflict_declaration(self, values):
        self.post(self.second, reverse("conflict_declare", args=[self.submitted.pk]), values)

    @EXAMPLES
    @given(typed("action", "reason", "no_conflict"))
    def test_answer_to_an_invitation(self, values):
        self.post(self.second, reverse("review_respond", args=[self.invited.pk]), values)

    @EXAMPLES
    @given(typed("comment_to_applicant", "confidential_comment", "recommendation"))
    def test_review(self, values):
        Review.objects.filter(pk=self.invited.pk).update(state=ReviewState.ACCEPTED)
        review = Review.objects.get(pk=self.invited.pk)
        data = {"lock_version": str(review.lock_version), **values}
        self.post(self.second, reverse("review_edit", args=[review.pk]), data)

    @EXAMPLES
    @given(typed("email"))
    def test_team_invitation(self, values):
        self.post(self.pi, reverse("team_invite", args=[self.draft.pk]), values)

    @EXAMPLES
    @given(typed("kind", "amount", "new_end", "reason"))
    def test_allocation_request(self, values):
        self.post(self.pi, reverse("allocation_request", args=[self.allocation.pk]), values)

    @EXAMPLES
    @given(typed("email", "max_load"))
    def test_call_role(self, values):
        data = {"role": CallRoleKind.REVIEWER, **values}
        self.signed_in_manager()
        status = self.client.post(reverse("manage_call_people", args=[self.call.pk]), data)
        assert status.status_code < 500, data

    @EXAMPLES
    @given(typed("reviewer", "kind"))
    def test_manual_assignment(self, values):
        self.signed_in_manager()
        response = self.client.post(reverse("review_assign", args=[self.submitted.pk]), values)
        assert response.status_code < 500, values

    @EXAMPLES
    @given(typed("code", "name", "reference_prefix", "description", "guidelines"), texts)
    def test_call(self, values, criterion):
        data = call_post_data(
            criteria=[
                {"name": criterion, "description": criterion, "weight": "1"}
                | {"scale_min": "0", "scale_max": "5"}
            ],
            **values,
        )
        self.signed_in_manager()
        assert self.client.post(reverse("manage_call_create"), data).status_code < 500, data

    @EXAMPLES
    @given(typed("email", "password1", "password2"))
    def test_sign_up(self, values):
        self.client.logout()
        assert self.client.post("/accounts/signup/", values).status_code < 500, values

    def signed_in_manager(self):
        if self.client.session.get("_auth_user_id") != str(self.manager.pk):
            if not EmailAddress.objects.filter(user=self.manager).exists():
                EmailAddress.objects.create(
                    user=self.manager, email=self.manager.email, verified=True, primary=True
                )
            sign_in_with_totp(self.manager, self.client)
