"""The words of the audit trail in the reader's language (PRODUCT §10: German and Korean
throughout).

Entries keep what was recorded (``AuditEntry.before``/``after``: field names as keys, states as
their English labels or codes). They are read through here: a key becomes the field's name or
one of KEY_LABELS; a value that is a code or a label of one of the app's choices, or any other
text of the catalogue, is shown translated. What people typed reads as they typed it.
"""

import functools
import re

from django.apps import apps
from django.utils import translation
from django.utils.translation import gettext, gettext_lazy

# Keys that are no model field's name (or not the field's name people know).
KEY_LABELS = {
    "account": gettext_lazy("account"),
    "amount": gettext_lazy("amount"),
    "awarded": gettext_lazy("awarded"),
    "balance": gettext_lazy("balance"),
    "cluster": gettext_lazy("cluster"),
    "conflict": gettext_lazy("conflict"),
    "continues_allocation": gettext_lazy("continues the allocation"),
    "copied from": gettext_lazy("copied from"),
    "decisions_published_at": gettext_lazy("decisions published"),
    "detail": gettext_lazy("detail"),
    "due": gettext_lazy("due"),
    "entry": gettext_lazy("entry"),
    "forfeited": gettext_lazy("forfeited"),
    "kind": gettext_lazy("kind"),
    "late": gettext_lazy("late"),
    "login": gettext_lazy("login"),
    "member": gettext_lazy("member"),
    "name": gettext_lazy("name"),
    "new_end": gettext_lazy("new end date"),
    "note": gettext_lazy("note"),
    "outcomes": gettext_lazy("outcomes"),
    "pages": gettext_lazy("pages"),
    "person": gettext_lazy("person"),
    "promoted_at": gettext_lazy("promoted from the waiting list"),
    "proposal": gettext_lazy("proposal"),
    "reason": gettext_lazy("reason"),
    "reference": gettext_lazy("reference"),
    "request": gettext_lazy("request"),
    "resource": gettext_lazy("resource"),
    "responded_at": gettext_lazy("answered"),
    "response": gettext_lazy("answer"),
    "reviewer": gettext_lazy("reviewer"),
    "reviews declined": gettext_lazy("reviews declined"),
    "reviews_closed": gettext_lazy("reviews closed"),
    "role": gettext_lazy("role"),
    "roles": gettext_lazy("roles"),
    "second factor": gettext_lazy("second factor"),
    "sha256": gettext_lazy("SHA-256 checksum"),
    "size": gettext_lazy("size"),
    "state": gettext_lazy("state"),
    "status": gettext_lazy("status"),
    "to": gettext_lazy("to"),
}
NUMBERED = re.compile(r"^(?P<what>budget|criterion)[: ]+(?P<which>.+)$")


def key_label(key: str) -> str:
    """A recorded key as people read it: "new_end" → "new end date", "budget: GPU" →
    "budget: GPU", a call's field by its name."""
    if key in KEY_LABELS:
        return str(KEY_LABELS[key])
    numbered = NUMBERED.match(key)
    if numbered and numbered["what"] == "budget":
        return gettext("budget: %(resource)s") % {"resource": numbered["which"]}
    if numbered:
        return gettext("criterion %(number)s") % {"number": numbered["which"]}
    field = _field_names().get(key)
    return str(field) if field is not None else gettext(key)


def value_text(value: str) -> str:
    """A recorded text as people read it: a choice's code or label, or a text of the
    catalogue, in the reader's language; anything else as it was recorded."""
    if not value:
        return value
    label = _choice_labels().get(value)
    return str(label) if label is not None else gettext(value)


@functools.cache
def _field_names() -> dict[str, object]:
    """Each field name of the app's models with its (lazily translated) name; the first model
    that has it wins, they read alike."""
    names: dict[str, object] = {}
    for app in ("proposals", "allocations", "accounts"):
        for model in apps.get_app_config(app).get_models():
            for field in model._meta.concrete_fields:
                names.setdefault(field.name, field.verbose_name)
    return names


@functools.cache
def _choice_labels() -> dict[str, object]:
    """Every code and every English label of the app's choices, with its label."""
    labels: dict[str, object] = {}
    for app in ("proposals", "allocations", "accounts", "notifications", "api"):
        for model in apps.get_app_config(app).get_models():
            for field in model._meta.concrete_fields:
                for code, label in field.flatchoices:
                    if isinstance(code, str) and code:
                        labels.setdefault(code, label)
                        with translation.override("en"):
                            english = str(label)
                        labels.setdefault(english, label)
    return labels
