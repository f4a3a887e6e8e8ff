"""gunicorn's access log without secret links (PRODUCT §1.1); ``gunicorn.conf.py`` names it."""

from gunicorn.glogging import Logger

from accounts.redaction import redact_secret_links


class RedactingLogger(Logger):
    """Every text of an access log line (the request line, the path, the query, the referer
    and the other headers) with the secret part of emailed links replaced by ``[secret]``."""

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        return {
            key: redact_secret_links(value) if isinstance(value, str) else value
            for key, value in atoms.items()
        }
