from accounts.selectors import orcid_taken, profile_is_complete, profile_missing_fields
from tests.conftest import make_user


def test_complete_profile_misses_nothing(pi):
    assert profile_missing_fields(pi) == []
    assert profile_is_complete(pi) is True


def test_new_account_misses_every_required_field(db):
    user = make_user("new@uni.example", complete=False, full_name=" ")
    user.full_name = ""
    assert profile_missing_fields(user) == [
        "full name",
        "affiliation",
        "country",
        "at least one field of expertise",
    ]
    assert profile_is_complete(user) is False


def test_blank_affiliation_counts_as_missing(pi):
    pi.affiliation = "   "
    pi.expertise = []
    assert profile_missing_fields(pi) == ["affiliation", "at least one field of expertise"]


def test_orcid_taken_ignores_the_person_themselves(pi, coi):
    pi.orcid = "0000-0002-1825-0097"
    pi.save()
    assert orcid_taken(orcid="0000-0002-1825-0097", exclude_user=pi) is False
    assert orcid_taken(orcid="0000-0002-1825-0097", exclude_user=coi) is True
    assert orcid_taken(orcid="", exclude_user=coi) is False
