"""Section editors: what a proposal's section page shows around its forms.

Each page is a ``SectionEditor``: its form (and, for the technical data, the scaling formset)
bound and read as one, with what the page shows beside each field (``FieldView``): errors,
the problems of a refused submission, warnings, and — after a refused concurrent save — the
other person's saved value with a box to take it. Editors never write: the view hands
``editor.changes()`` to the section's service.

Concurrent saves (PRODUCT §4.2) are compared three ways. Beside ``lock_version`` each page
carries, signed, a fingerprint of every value it was loaded with (``loaded_input``). When the
save is based on an older version, the editor compares what was loaded, what was typed and
what is saved now (``Comparison``): if the other person changed nothing that was also changed
here, their values are filled in and the save goes through on top of their version
(``merge``); otherwise it is refused with their value beside each field both changed
(``show_conflict``). A page without a valid fingerprint is refused with every difference shown.

The editor of each section (general, resources, technical) is in ``editors``.
"""

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from decimal import Decimal
from functools import cached_property
from typing import Any

from django import forms
from django.core import signing
from django.core.exceptions import ValidationError
from django.forms.boundfield import BoundField
from django.http import QueryDict
from django.utils.safestring import SafeString

from proposals.submission.enums import ProposalSection
from proposals.submission.forms.proposal import (
    TAKE_THEIRS,
    SectionForm,
    plain_number,
)
from proposals.submission.models import Proposal
from proposals.submission.selectors.completeness import Problem
from proposals.submission.services.editing import EditConflict

# The hidden input with the signed fingerprints of the values the page was loaded with.
LOADED = "loaded"


def fingerprint(value: Any) -> str:
    """A short digest of a value, the same for values the page treats as equal (``Decimal("5")``
    and ``Decimal("5.00")``, a list and a tuple of the same items). Digests rather than the
    values keep the hidden input small however long the abstract is."""
    text = json.dumps(_plain(value), ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return plain_number(value)
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


@dataclass(frozen=True)
class Comparison:
    """Loaded, typed and saved now, by value name (a field's, or ``scaling``)."""

    theirs: frozenset[str]  # changed by someone else since the page was loaded
    clashing: frozenset[str]  # of those, changed here too, to something else
    taken: frozenset[str]  # of those, left as loaded here: their value is kept


# --- What the page shows beside each field ---------------------------------------------------


@dataclass
class FieldView:
    """One field as the page renders it, with everything shown beside it."""

    bound: BoundField
    errors: list[str] = dataclass_field(default_factory=list)
    warnings: list[str] = dataclass_field(default_factory=list)
    theirs: str | None = None  # the other person's saved value, after a refused save
    read_only: bool = False

    @property
    def name(self) -> str:
        return self.bound.html_name

    @property
    def has_theirs(self) -> bool:
        return self.theirs is not None

    @property
    def help(self) -> str:
        return self.bound.help_text

    def widget(self) -> SafeString:
        """The input, described by its help, errors, warnings and the other saved value."""
        fid = self.bound.auto_id
        described = [
            f"{fid}_{part}"
            for part, shown in (
                ("helptext", self.help),
                ("error", self.errors),
                ("warning", self.warnings),
                ("theirs", self.has_theirs),
            )
            if shown
        ]
        attrs: dict[str, Any] = {}
        if described:
            attrs["aria-describedby"] = " ".join(described)
        if self.errors:
            attrs["aria-invalid"] = "true"
        if self.read_only:
            widget = self.bound.field.widget
            choice = isinstance(widget, forms.Select | forms.CheckboxInput)
            attrs["disabled" if choice else "readonly"] = True
        return self.bound.as_widget(attrs=attrs)


@dataclass
class SummaryItem:
    """A line of the box at the top of the page, linking to the field it is about."""

    anchor: str
    label: str
    message: str


class SectionEditor:
    """A section page's form(s), bound or not, read as one.

    ``problems`` are the section's problems from a refused submission, shown beside their
    fields; ``read_only`` renders every input read-only (no buttons are shown either).
    """

    section: ProposalSection
    template_name: str
    field_names: tuple[str, ...] = ()

    def __init__(
        self,
        proposal: Proposal,
        data: QueryDict | None = None,
        *,
        problems: Iterable[Problem] = (),
        read_only: bool = False,
    ) -> None:
        self.proposal = proposal
        self.read_only = read_only
        self.problems: dict[str, list[str]] = {}
        for problem in problems:
            self.problems.setdefault(problem.field, []).append(problem.message)
        self.section_errors: dict[str, list[str]] = {}
        self.conflict: EditConflict | None = None
        # After someone else saved in between: how the three versions compared (None when the
        # page did not say what it was loaded with), and the save this one was merged onto.
        self.comparison: Comparison | None = None
        self.merged_over: EditConflict | None = None
        self.row_added = False
        if data is not None:
            data = self._take_theirs(data)
        self.form = self.build(data)

    # -- to be filled in by each section --

    def build(self, data: QueryDict | None) -> SectionForm:
        raise NotImplementedError

    def saved_values(self, proposal: Proposal) -> dict[str, Any]:
        """The saved values of the main form's fields, as the form cleans them."""
        return {name: getattr(proposal, name) for name in self.field_names}

    def display(self, name: str, value: Any) -> str:
        """A saved value as words, for the "their saved value" box."""
        return "" if value is None else str(value)

    def changes(self) -> dict[str, Any]:
        """The service's keyword arguments besides proposal, by and expected_version."""
        raise NotImplementedError

    # -- shared --

    @cached_property
    def _saved(self) -> dict[str, Any]:
        """The saved values of the proposal as this request found it."""
        return self.saved_values(self.proposal)

    def initial(self) -> dict[str, Any]:
        """The form's initial data: the saved values and the version."""
        values = {name: self.form_value(name, self._saved[name]) for name in self.field_names}
        return {**values, "lock_version": self.proposal.lock_version}

    def form_value(self, name: str, value: Any) -> Any:
        """A saved value as it goes into the form's input."""
        if isinstance(value, Decimal):
            return plain_number(value)
        if isinstance(value, list):
            return ", ".join(value)
        return value

    def _take_theirs(self, data: QueryDict) -> QueryDict:
        """After a refused save, the boxes ticked to take the saved value instead of the typed
        one: the saved value replaces the typed one before anything is read."""
        taken = data.getlist(TAKE_THEIRS)
        if not taken:
            return data
        return self._put_saved(data, taken, self._saved)

    def _put_saved(
        self, data: QueryDict, names: Collection[str], saved: Mapping[str, Any]
    ) -> QueryDict:
        """A copy of ``data`` with the ``saved`` values of ``names`` in place of the typed ones."""
        data = data.copy()
        for name in set(names) & set(self.field_names):
            data[name] = self.form_value(name, saved[name]) or ""
        return data

    def is_valid(self) -> bool:
        return self.form.is_valid()

    @property
    def expected_version(self) -> int:
        return self.form.cleaned_data["lock_version"]

    def add_error(self, error: ValidationError) -> None:
        """A refusal from the service: beside its field when it names one of ours."""
        if not hasattr(error, "error_dict"):
            self.form.add_error(None, error)
            return
        for name, messages in error:
            if name in self.form.fields:
                self.form.add_error(name, messages)
            else:
                self.section_errors.setdefault(name, []).extend(messages)

    # -- what the page was loaded with, and saves that crossed (PRODUCT §4.2) --

    def _salt(self) -> str:
        return f"proposals.edit.{self.section.value}"

    def _loaded_token(self, proposal: Proposal, saved: Mapping[str, Any]) -> str:
        payload = {
            "p": proposal.pk,
            "v": proposal.lock_version,
            "f": {name: fingerprint(value) for name, value in saved.items()},
        }
        return signing.dumps(payload, salt=self._salt(), compress=True)

    def loaded_input(self) -> SafeString:
        """The hidden input saying, signed, what the page was loaded with: from the proposal
        when the page is new, as it was sent when the page comes back (after an error, or with
        a row added), their version's after a refused save."""
        if self.read_only:
            return SafeString("")
        if self.form.is_bound:
            token = self.form.data.get(LOADED, "")
        else:
            token = self._loaded_token(self.proposal, self._saved)
        return forms.HiddenInput().render(LOADED, token)

    @cached_property
    def _loaded(self) -> dict[str, str] | None:
        """The fingerprints the page was loaded with, by value name; None when they are
        missing, altered, or not of this proposal at the version the form was loaded with."""
        token = self.form.data.get(LOADED)
        if not token:
            return None
        try:
            payload = signing.loads(token, salt=self._salt())
        except (signing.BadSignature, ValueError):
            return None
        if (
            not isinstance(payload, dict)
            or payload.get("p") != self.proposal.pk
            or payload.get("v") != self.expected_version
            or not isinstance(payload.get("f"), dict)
        ):
            return None
        return payload["f"]

    def entered_value(self, name: str) -> Any:
        """What was typed for ``name``, to compare with what was loaded."""
        return self.typed_value(name)

    @cached_property
    def _entered(self) -> dict[str, Any]:
        """What was sent, before any of their values is filled in."""
        return {name: self.entered_value(name) for name in self._saved}

    def _compare(self, conflict: EditConflict) -> Comparison | None:
        """What was loaded, typed and saved now, compared value by value (the scaling table as
        one); None when the page did not say what it was loaded with."""
        entered, loaded = self._entered, self._loaded  # both read before the form is rebound
        if loaded is None:
            return None
        current = self.saved_values(conflict.proposal)
        theirs, clashing, taken = set(), set(), set()
        for name, value in current.items():
            was = loaded.get(name)
            if fingerprint(value) == was:
                continue
            theirs.add(name)
            typed = fingerprint(entered.get(name))
            if typed == was:
                taken.add(name)
            elif typed != fingerprint(value):
                clashing.add(name)
        return Comparison(frozenset(theirs), frozenset(clashing), frozenset(taken))

    def _load_version(self, proposal: Proposal, *, taken: Collection[str]) -> None:
        """Rebind the form to ``proposal`` as it is now: its version, its fingerprints, and its
        values of ``taken`` in place of the typed ones; everything else typed is kept."""
        saved = self.saved_values(proposal)
        data = self._put_saved(self.form.data, taken, saved)
        data["lock_version"] = str(proposal.lock_version)
        data[LOADED] = self._loaded_token(proposal, saved)
        data.setlist(TAKE_THEIRS, [])
        self.form = self.build(data)
        self.is_valid()

    def merge(self, conflict: EditConflict) -> bool:
        """Someone saved after the page was loaded. When nothing they changed was also changed
        here (differently), take their values of what they changed and their version, so
        that ``changes()`` keeps both, and return True. Otherwise change nothing: False."""
        comparison = self._compare(conflict)
        if comparison is None or comparison.clashing:
            return False
        self._load_version(conflict.proposal, taken=comparison.taken)
        if not self.is_valid():
            return False
        self.comparison, self.merged_over = comparison, conflict
        return True

    def show_conflict(self, conflict: EditConflict) -> None:
        """The save was refused because someone saved first: keep what was typed, fill in
        their value where only they changed a field, show their value beside each field both
        changed, and load their version so saving again (a deliberate choice) goes through.
        Without fingerprints of what was loaded, their value is shown beside every field that
        differs, and nothing is filled in."""
        self.conflict = conflict
        self.comparison = self._compare(conflict)
        taken = self.comparison.taken if self.comparison else frozenset()
        self._load_version(conflict.proposal, taken=taken)

    @property
    def compared_with_loaded(self) -> bool:
        """The refused save was compared with what the page was loaded with."""
        return self.comparison is not None

    def differences(self) -> dict[str, str]:
        """Field name → the other person's saved value, for each field both changed (without
        fingerprints: each field where it differs from what was typed), after a refused save."""
        if self.conflict is None:
            return {}
        current = self.saved_values(self.conflict.proposal)
        if self.comparison is not None:
            return {
                name: self.display(name, value)
                for name, value in current.items()
                if name in self.comparison.clashing
            }
        return {
            name: self.display(name, value)
            for name, value in current.items()
            if self.typed_value(name) != value
        }

    def typed_value(self, name: str) -> Any:
        return self.form.cleaned_data.get(name)

    def add_row(self) -> None:
        """Only the technical section has rows to add."""

    def view(self, name: str, *, warnings: Sequence[str] = ()) -> FieldView:
        bound = self.form[name]
        # A read-only page (after the deadline) has nothing to correct.
        errors = [] if self.read_only else list(bound.errors)
        unchanged = not self.form.is_bound or name not in self.form.changed_data
        if not errors and unchanged:
            errors = list(self.problems.get(name, []))
        return FieldView(
            bound=bound,
            errors=errors,
            warnings=list(warnings) if not errors else [],
            theirs=self._differences.get(name),
            read_only=self.read_only,
        )

    @cached_property
    def _differences(self) -> dict[str, str]:
        return self.differences()

    @cached_property
    def f(self) -> dict[str, FieldView]:
        """Every visible field's view, by name (for the template: ``editor.f.title``)."""
        return {name: self.view(name) for name in self.field_names}

    def field_views(self) -> list[FieldView]:
        return list(self.f.values())

    @cached_property
    def summary(self) -> list[SummaryItem]:
        """Every error of a refused save, each linking to its field."""
        if not self.form.is_bound or self.read_only:
            return []
        items = [SummaryItem("", "", str(message)) for message in self.form.non_field_errors()]
        items += [SummaryItem("", "", str(message)) for message in self.form["lock_version"].errors]
        for view in self.field_views():
            if view.bound.errors:
                items += [
                    SummaryItem(view.bound.auto_id, str(view.bound.label), str(message))
                    for message in view.bound.errors
                ]
        return items + self.extra_summary()

    def extra_summary(self) -> list[SummaryItem]:
        return []

    @cached_property
    def problem_summary(self) -> list[SummaryItem]:
        """The problems of a refused submission still shown on this page."""
        if self.read_only:
            return []
        items = []
        for view in self.field_views():
            if view.errors and not view.bound.errors:
                items += [
                    SummaryItem(view.bound.auto_id, str(view.bound.label), message)
                    for message in view.errors
                ]
        return items + self.extra_problem_summary()

    def extra_problem_summary(self) -> list[SummaryItem]:
        return []
