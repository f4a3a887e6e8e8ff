"""Uploading a PDF: the form, and an upload handler that stops reading an oversized file.

Django streams uploads to a temporary file before a view sees them. ``SizeCappedUploadHandler``
sits first in the chain and skips a file as soon as it passes the call's size limit, so an
oversized file is neither kept in memory nor written to disk; the form then says why.
"""

from django import forms
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.forms.utils import ErrorDict
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from proposals.submission.enums import AttachmentKind
from proposals.submission.services.attachments import AttachmentLimits


class SizeCappedUploadHandler(FileUploadHandler):
    """Skips any uploaded file larger than ``max_bytes`` and remembers its field name.

    The rest of the request is still read (and discarded), so the other fields, among them the
    CSRF token, arrive and the page can answer with the reason.
    """

    def __init__(self, request: HttpRequest, max_bytes: int) -> None:
        super().__init__(request)
        self.max_bytes = max_bytes
        self.too_large: set[str] = set()
        self._received = 0

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self._received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self._received += len(raw_data)
        if self._received > self.max_bytes:
            self.too_large.add(self.field_name)
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def too_large_message(limits: AttachmentLimits) -> str:
    return _("The file is larger than %(limit)s, the most this call accepts.") % {
        "limit": filesizeformat(limits.max_bytes)
    }


def limits_help(limits: AttachmentLimits) -> str:
    """The limits in words, for the help text of the file field."""
    size = filesizeformat(limits.max_bytes)
    description = ngettext(
        "Project description: at most %(pages)d page and %(size)s.",
        "Project description: at most %(pages)d pages and %(size)s.",
        limits.description_pages,
    ) % {"pages": limits.description_pages, "size": size}
    cv = ngettext(
        "CV: at most %(pages)d page and %(size)s each.",
        "CV: at most %(pages)d pages and %(size)s each.",
        limits.cv_pages,
    ) % {"pages": limits.cv_pages, "size": size}
    return " ".join(
        [_("A PDF, without a password; its content is checked, not its name."), description, cv]
    )


class AttachmentForm(forms.Form):
    """What kind of file and the file. The content is checked by the upload service."""

    kind = forms.ChoiceField(
        label=gettext_lazy("Kind of file"),
        choices=AttachmentKind.choices,
        initial=AttachmentKind.DESCRIPTION,
        widget=forms.RadioSelect,
        help_text=gettext_lazy(
            "One project description: a new one replaces the current one, which is kept for "
            "the submitted versions. CVs: as many as the team needs."
        ),
    )
    file = forms.FileField(
        label=gettext_lazy("PDF file"),
        widget=forms.FileInput(attrs={"accept": "application/pdf,.pdf"}),
    )

    def __init__(
        self,
        *args,
        limits: AttachmentLimits,
        too_large: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits
        self.too_large = too_large
        self.fields["file"].help_text = limits_help(limits)
        if too_large:
            # The file was skipped on arrival; say why instead of "This field is required."
            self.fields["file"].required = False

    def refuse_unread(self, message: str) -> None:
        """Show ``message`` on the file field of a request whose body was never read."""
        self.cleaned_data = {}
        self._errors = ErrorDict({"file": self.error_class([message], renderer=self.renderer)})

    def clean_file(self):
        if self.too_large:
            raise forms.ValidationError(too_large_message(self.limits), code="too_large")
        return self.cleaned_data.get("file")
