import pytest
from django.core.exceptions import ValidationError

from accounts.models import User
from accounts.services import profile_update


def test_profile_update_writes_the_profile_fields(pi):
    profile_update(
        user=pi,
        data={
            "full_name": "Paula I. Investigator",
            "affiliation": "Uni Example",
            "country": "AT",
            "orcid": "0000-0002-1825-0097",
            "expertise": ["LS1", "PE6"],
            "keywords": ["protein folding"],
            "time_zone": "Europe/Vienna",
            "email": "ignored@else.example",
        },
    )
    fresh = User.objects.get(pk=pi.pk)
    assert fresh.full_name == "Paula I. Investigator"
    assert fresh.country.code == "AT"
    assert fresh.orcid == "0000-0002-1825-0097"
    assert fresh.expertise == ["LS1", "PE6"]
    assert fresh.keywords == ["protein folding"]
    assert fresh.time_zone == "Europe/Vienna"
    assert fresh.email == "pi@uni.example"
    assert pi.time_zone == "Europe/Vienna"


def test_profile_update_refuses_an_orcid_taken_meanwhile(pi, coi):
    coi.orcid = "0000-0002-1825-0097"
    coi.save()
    with pytest.raises(ValidationError) as caught:
        profile_update(user=pi, data={"orcid": "0000-0002-1825-0097"})
    assert "orcid" in caught.value.message_dict
    assert User.objects.get(pk=pi.pk).orcid == ""
