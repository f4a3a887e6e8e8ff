"""What every benchmark script does first: PostgreSQL (PRODUCT §10 measures on it), the
database created when missing, Django set up and the database migrated.

The scripts put the repository root on ``sys.path`` and set the settings module before they
import this.
"""

import os
import sys
from urllib.parse import urlsplit, urlunsplit


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of ``url`` when it does not exist yet."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")


def setup_on_postgresql() -> None:
    """Exit unless ``DATABASE_URL`` names a PostgreSQL database; create it when missing, set
    Django up and migrate."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL=postgres://… (PRODUCT §10 measures on PostgreSQL).")
    ensure_database(url)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
