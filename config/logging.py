"""Structured logs: one JSON object a line, for log collectors; never a secret link.

``SecretLinkFilter`` (on the console handler) and ``config.gunicorn.RedactingLogger``
(gunicorn's access log) replace the secret part of emailed links with ``[secret]``
(``accounts.redaction``, PRODUCT §1.1), so that no log shows it to whoever reads the logs.
"""

import json
import logging
from datetime import UTC, datetime

from accounts.redaction import redact_secret_links


class SecretLinkFilter(logging.Filter):
    """Takes the secret part of emailed links out of every record it passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_secret_links(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key.startswith("ctx_"):
                entry[key[4:]] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)
