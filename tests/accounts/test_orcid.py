import pytest
from django.core.exceptions import ValidationError

from accounts.orcid import normalise_orcid, orcid_check_digit


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("0000-0002-1825-0097", "0000-0002-1825-0097"),
        ("  0000-0002-1825-0097 ", "0000-0002-1825-0097"),
        ("https://orcid.org/0000-0002-1825-0097", "0000-0002-1825-0097"),
        ("http://orcid.org/0000-0001-5109-3700/", "0000-0001-5109-3700"),
        ("orcid.org/0000-0002-1694-233x", "0000-0002-1694-233X"),
        ("0000000218250097", "0000-0002-1825-0097"),
        ("", ""),
    ],
)
def test_normalise_accepts_ids_and_urls(typed, expected):
    assert normalise_orcid(typed) == expected


def test_check_digit_can_be_x():
    assert orcid_check_digit("000000021694233") == "X"


def test_wrong_check_digit_is_refused_with_the_reason():
    with pytest.raises(ValidationError) as caught:
        normalise_orcid("0000-0002-1825-0098")
    assert caught.value.code == "orcid_checksum"
    assert "0000-0002-1825-0098 is not a valid ORCID iD" in caught.value.messages[0]


@pytest.mark.parametrize(
    "typed",
    ["12345", "0000-0002-1825", "abcd-0002-1825-0097", "https://example.org/0000-0002-1825-0097"],
)
def test_wrong_shape_is_refused(typed):
    with pytest.raises(ValidationError) as caught:
        normalise_orcid(typed)
    assert caught.value.code == "orcid_format"
