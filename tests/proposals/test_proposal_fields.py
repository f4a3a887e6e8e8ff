"""The proposal's fields are listed once (``submission.models``): the section forms hold
exactly those fields, and each is a field of the model."""

from proposals.submission.forms.proposal import GeneralForm, SectionForm, TechnicalForm
from proposals.submission.models import (
    GENERAL_FIELDS,
    OPTIONAL_FIELDS,
    PROPOSAL_FIELDS,
    TECHNICAL_FIELDS,
    Proposal,
)


def form_fields(form_class) -> set[str]:
    return set(form_class.base_fields) - set(SectionForm.base_fields)


def test_the_general_and_technical_forms_hold_exactly_the_listed_fields():
    assert form_fields(GeneralForm) == set(GENERAL_FIELDS)
    assert form_fields(TechnicalForm) == set(TECHNICAL_FIELDS)


def test_every_listed_field_is_a_field_of_the_proposal():
    names = {field.name for field in Proposal._meta.get_fields()}

    assert set(PROPOSAL_FIELDS) <= names
    assert set(PROPOSAL_FIELDS) >= OPTIONAL_FIELDS
