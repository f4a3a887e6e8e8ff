"""Bad input on the allocation pages (issue 11): refused beside its field, kept, never 500."""

import html

import pytest
from django.urls import reverse

from allocations.models import AllocationMember, AllocationRequest
from tests.allocation_factories import make_allocation

pytestmark = pytest.mark.django_db


@pytest.fixture
def allocation(pi):
    return make_allocation(pi=pi)


def test_a_member_with_a_long_local_part_is_refused_beside_the_field(client, pi, allocation):
    client.force_login(pi)
    email = "m" * 65 + "@lab.example"

    response = client.post(reverse("allocation_member_add", args=[allocation.pk]), {"email": email})

    assert response.status_code == 200
    assert response.context["member_form"].errors == {
        "email": ["The part before the @ can have at most 64 characters; this one has 65."]
    }
    assert f'value="{email}"' in response.content.decode()
    assert not AllocationMember.objects.exclude(user=pi).exists()


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        (
            "We need more\x00 hours.",
            "Remove the invisible control character U+0000 from this text: it cannot be stored.",
        ),
        ("r" * 5001, "Keep this to 5000 characters or fewer; it has 5001."),
    ],
)
def test_a_bad_reason_for_more_hours_is_refused_beside_the_field(
    client, pi, allocation, reason, message
):
    client.force_login(pi)

    response = client.post(
        reverse("allocation_request", args=[allocation.pk]),
        {"kind": "extension", "new_end": "2099-01-01", "reason": reason},
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {"reason": [message]}
    assert html.escape(reason) in response.content.decode()
    assert not AllocationRequest.objects.exists()
