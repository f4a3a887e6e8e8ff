"""Rows that are written once and never changed: the ledger, the audit trail, the submitted
versions of a proposal.

The model refuses here, in Python, so that a mistake fails loudly at the line that made it;
the database triggers of each app refuse the same for raw SQL and other clients.
"""

from django.db import models


class AppendOnlyError(Exception):
    """An append-only row was about to be changed or deleted."""


class AppendOnlyModel(models.Model):
    """A model whose rows are inserted once: ``save()`` of an existing row and ``delete()``
    raise AppendOnlyError. ``save(force_insert=True)`` stays an insert (the database refuses a
    primary key that is taken).

    Abstract and without fields, so it adds nothing to a model's table or migrations.
    """

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError(append_only_message(type(self), "changed"))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(append_only_message(type(self), "deleted"))


def append_only_message(model: type[models.Model], what: str) -> str:
    """``Ledger entries are append-only: they cannot be deleted.``"""
    name = str(model._meta.verbose_name_plural)
    return f"{name[:1].upper()}{name[1:]} are append-only: they cannot be {what}."
