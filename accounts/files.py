"""Private files, such as a proposal's attachments and an allocation's final report, are
never under a static or media URL: a view checks who asks, then serves the file with
``private_file_download``. ``declared_length`` is what an upload view reads before the body
to refuse an upload that is too large without reading it.
"""

import logging

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest
from django.utils.cache import patch_cache_control

log = logging.getLogger(__name__)


def private_file_download(
    file: FieldFile,
    *,
    filename: str,
    what: str,
    log_extra: dict,
    content_type: str = "application/pdf",
) -> FileResponse:
    """``file`` as a download named ``filename``, for a reader the caller has already checked.

    The browser must not sniff another type from the content (nosniff) and no cache may keep
    it (private, no-store). A file missing on disk is a 404 and an error in the log
    ("<what> file missing", with ``log_extra`` and the file's name), not a 500.
    """
    try:
        handle = file.open("rb")
    except FileNotFoundError as exc:
        log.error(f"{what} file missing", extra={**log_extra, "ctx_file": file.name})
        raise Http404("The file is missing.") from exc
    response = FileResponse(
        handle, as_attachment=True, filename=filename, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True, no_store=True)
    return response


def declared_length(request: HttpRequest) -> int:
    """The body's size as the client declares it (0 when it does not say, or says nonsense)."""
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0
