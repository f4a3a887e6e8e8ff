"""Attachments: PDF upload, download through a permission check. (In progress.)"""

from django.http import Http404


def _todo(*args, **kwargs):
    raise Http404("Not built yet.")


proposal_attachments = attachment_download = attachment_remove = _todo
