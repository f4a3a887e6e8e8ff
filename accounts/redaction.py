"""The secret part of emailed links, taken out of text that others read (PRODUCT §1.1).

A secret link is in the path of the request its recipient makes: an address confirmation or
password reset key (django-allauth), a team invitation's token; and URL-encoded in the
``next`` of a sign-in it leads to. Logs (``config.logging``, ``config.gunicorn``) and the
outbox's record of a delivery error pass text through ``redact_secret_links``.
"""

import re

_SLASH = "(?:/|%2F)"
SECRET_PATH = re.compile(
    rf"(?P<route>confirm-email|password{_SLASH}reset{_SLASH}key|invitations)(?P<slash>{_SLASH})"
    r"(?P<secret>[^/?&#\s\"']+)",
    re.IGNORECASE,
)


def redact_secret_links(text: str) -> str:
    """``text`` with the secret part of every emailed link replaced by ``[secret]``."""
    return SECRET_PATH.sub(lambda match: f"{match['route']}{match['slash']}[secret]", text)
