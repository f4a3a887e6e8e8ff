#!/usr/bin/env python
import os
import sys

# Commands that only read the models and migrations never sign anything, so they need no
# SECRET_KEY: `manage.py makemigrations --check` works on a fresh clone without configuration.
# Every other command still refuses to start without one unless DEBUG is on (config/settings.py).
KEYLESS_COMMANDS = {"makemigrations", "showmigrations", "sqlmigrate"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if len(sys.argv) > 1 and sys.argv[1] in KEYLESS_COMMANDS:
        os.environ.setdefault("SECRET_KEY", f"unused-by-{sys.argv[1]}")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
