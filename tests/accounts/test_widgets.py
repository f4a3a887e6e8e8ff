"""The widgets drawn in Python write exactly what Django's templates write."""

import pytest
from django import forms

from accounts import widgets

CHOICES = [("", "Not decided"), ("award", "Award <b>"), ("decline", "Decline")]
GROUPED = [("Group “1”", [("a", "A"), ("b", "B")]), ("c", "C & D")]
HOSTILE = '"><script>alert(1)</script>\x7f'
ATTRS = [
    {"id": "id_f"},
    {"id": "id_f", "aria-invalid": "true", "aria-describedby": "e1", "required": True},
    {"id": "id_f", "disabled": False, "data-x": HOSTILE},
]


@pytest.mark.parametrize("attrs", ATTRS)
@pytest.mark.parametrize(
    "theirs, ours, value",
    [
        *[
            (forms.NumberInput, widgets.NumberInput, value)
            for value in ["12.50", None, 0, "", HOSTILE]
        ],
        *[(forms.Textarea, widgets.Textarea, value) for value in [None, "", "\nline", HOSTILE]],
    ],
)
def test_inputs_are_drawn_as_django_draws_them(theirs, ours, value, attrs):
    extra = {"step": "0.01", "min": "0"}
    assert ours(attrs=extra).render("amount-1-2", value, attrs) == theirs(attrs=extra).render(
        "amount-1-2", value, attrs
    )


@pytest.mark.parametrize("attrs", ATTRS)
@pytest.mark.parametrize(
    "choices, value",
    [(CHOICES, ""), (CHOICES, "award"), (CHOICES, None), (CHOICES, HOSTILE), (GROUPED, "a")],
)
def test_selects_are_drawn_as_django_draws_them(choices, value, attrs):
    ours = widgets.Select(choices=choices).render("outcome-1", value, attrs)
    assert ours == forms.Select(choices=choices).render("outcome-1", value, attrs)
    assert "<script>" not in ours
