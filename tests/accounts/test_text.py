"""The rules for typed text (``accounts.text``) and the fields that apply them
(``accounts.fields``), and that every text field of every form of the project is one of them."""

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from accounts.fields import EmailAddressField, FreeTextField, NameField
from accounts.text import (
    refuse_control_characters,
    refuse_long_local_part,
    refuse_unsafe_name,
    safe_name,
)

APPS = ["accounts", "notifications", "proposals", "allocations"]


def codes(check, value: str) -> list[str]:
    try:
        check(value)
    except ValidationError as error:
        return [error.code]
    return []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Paula Investigator", []),
        ("Zoë O'Brien-Łukasiewicz", []),
        ("محمد عبد الله", []),
        ("李小龙", []),
        ("", []),
        ("Paula\x00", ["control_character"]),
        ("Paula\x1b[31m", ["control_character"]),
        ("Paula\x85", ["control_character"]),
        ("Paula\nInvestigator", ["control_character"]),
        ("Paula\tInvestigator", ["control_character"]),
        *(
            (f"a{chr(c)}b", ["bidi_control"])
            for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))
        ),
        ("\u200b", ["invisible"]),
        ("\u200b\u200c\u200d\u2060\ufeff", ["invisible"]),
        ("\u3164\u115f\u2800", ["invisible"]),
        ("\u00a0\u3000", ["invisible"]),
        ("\u0301\u0308", ["invisible"]),
        ("A\u200b", []),
    ],
)
def test_names(value, expected):
    assert codes(refuse_unsafe_name, value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Line one.\nLine two.\tTabbed.", []),
        ("Right-to-left \u202e in prose is left to the reader", []),
        ("\x00", ["control_character"]),
        ("a\x7fb", ["control_character"]),
        ("a\ud800b", ["control_character"]),
    ],
)
def test_free_text(value, expected):
    assert codes(refuse_control_characters, value) == expected


def test_the_message_names_the_character():
    with pytest.raises(ValidationError) as refused:
        refuse_unsafe_name("a\u202eb")
    assert refused.value.messages == [
        "Remove the text direction character U+202E RIGHT-TO-LEFT OVERRIDE: it makes the text "
        "read differently from how it is stored."
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("a" * 64 + "@x.example", []), ("a" * 65 + "@x.example", ["local_part_too_long"])],
)
def test_local_part(value, expected):
    assert codes(refuse_long_local_part, value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  Paula \u202eInvestigator\x00 ", "Paula Investigator"),
        ("Paula\nInvestigator", "Paula Investigator"),
        ("\u200b\u200b", ""),
    ],
)
def test_a_name_from_elsewhere_is_made_safe(value, expected):
    assert safe_name(value) == expected


def test_fields_need_a_limit():
    with pytest.raises(TypeError):
        FreeTextField(max_length=None)
    with pytest.raises(TypeError):
        NameField()


def test_a_free_text_counts_a_line_break_once_and_says_when_it_is_too_long():
    field = FreeTextField(max_length=5)

    assert field.clean("ab\r\ncd") == "ab\ncd"
    with pytest.raises(ValidationError) as refused:
        field.clean("abcdef")
    assert refused.value.messages == ["Keep this to 5 characters or fewer; it has 6."]


def test_a_name_folds_its_spaces_and_gives_one_message_for_a_nul():
    field = NameField(max_length=50)

    assert field.clean("  Paula   Investigator ") == "Paula Investigator"
    with pytest.raises(ValidationError) as refused:
        field.clean("Pa\x00ula")
    assert refused.value.messages == [
        "Remove the invisible control character U+0000: it cannot be stored."
    ]


def test_an_email_address_field_refuses_a_long_local_part():
    with pytest.raises(ValidationError) as refused:
        EmailAddressField().clean("a" * 65 + "@x.example")
    assert refused.value.messages == [
        "The part before the @ can have at most 64 characters; this one has 65."
    ]


# --- Every form of the project uses them --------------------------------------------------


def _form_modules():
    for app in APPS:
        package = importlib.import_module(app)
        for info in pkgutil.walk_packages(package.__path__, f"{app}."):
            if info.name.rsplit(".", 1)[-1] == "forms" or ".forms." in info.name:
                yield importlib.import_module(info.name)


FORM_MODULES = list(_form_modules())
OURS = (FreeTextField, NameField, EmailAddressField)


def test_the_form_modules_are_found():
    names = {module.__name__ for module in FORM_MODULES}
    assert {
        "accounts.forms",
        "proposals.submission.forms.proposal",
        "allocations.forms.manage",
    } <= (names)


@pytest.mark.parametrize("module", FORM_MODULES, ids=lambda module: module.__name__)
def test_every_declared_text_field_is_one_of_ours(module):
    for name, form in inspect.getmembers(module, inspect.isclass):
        if not issubclass(form, forms.BaseForm) or form.__module__ != module.__name__:
            continue
        for field_name, field in form.base_fields.items():
            if isinstance(field, forms.CharField) and not isinstance(
                field.widget, forms.HiddenInput
            ):
                assert isinstance(field, OURS), f"{name}.{field_name} is a {type(field).__name__}"
                assert field.max_length, f"{name}.{field_name} has no length limit"


@pytest.mark.parametrize("app", APPS)
def test_no_form_builds_a_text_field_of_its_own(app):
    """Fields added in a form's ``__init__`` (one per resource, one per proposal) are not in
    ``base_fields``: their source must use ours too."""
    root = Path(settings.BASE_DIR) / app
    offenders = [
        str(path.relative_to(settings.BASE_DIR))
        for path in root.rglob("*.py")
        if "forms" in path.parts or path.stem == "forms"
        for text in [path.read_text()]
        if "forms.CharField(" in text or "forms.EmailField(" in text
    ]
    assert offenders == []
