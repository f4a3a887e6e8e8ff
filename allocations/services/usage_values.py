"""What a value of a sacct line must be to be charged and kept (``usage_import``): the limits
that keep every value an integer PostgreSQL and SQLite can hold and every name printable, and
the reading of AllocTRES."""

import re

from allocations.models import CHARGE_SCALE, Resource

MAX_NAME = 100  # the records' account and user columns
MAX_JOB_ID_DIGITS = 18  # Slurm's are 32-bit; more would not be a Slurm job
MAX_DIGITS = 12  # seconds or a TRES count: more than 30,000 years of seconds
MAX_JOB_HOURS = 10**9  # unit-hours one job can be charged (a whole machine for years)
MAX_CHARGE = MAX_JOB_HOURS * 3600 * CHARGE_SCALE
OVERFLOW = "the charges of one allocation, member and day add up to more than the ledger can hold"
# AllocTRES as sacct writes it: comma-separated name=value pairs, no spaces (or empty).
TRES_RE = re.compile(r"(?:[^,=\s]+=[^,=\s]+(?:,[^,=\s]+=[^,=\s]+)*)?")


def digits_only(value: str) -> bool:
    """ASCII digits only (``isdecimal`` alone takes other scripts' digits too)."""
    return value.isascii() and value.isdecimal()


def plain_name(value: str) -> bool:
    """A name that can be kept and shown as it is: printable and short enough for the records
    (no control character: PostgreSQL's text cannot hold a NUL, a terminal would obey the
    rest)."""
    return len(value) <= MAX_NAME and value.isprintable()


def scaled_factor(resource: Resource) -> int:
    """The charge factor × CHARGE_SCALE: an integer (the factor has four decimal places)."""
    return int(resource.charge_factor * CHARGE_SCALE)


def tres_count(tres: str, key: str) -> int:
    """The count of ``key`` in an AllocTRES string such as
    ``billing=96,cpu=288,gres/gpu=4,mem=480G,node=1`` (0 when absent). For ``gres/gpu`` the
    typed counts (``gres/gpu:a100=4``) are added up when there is no untyped one. The string
    has passed ``TRES_RE``."""
    at = tres.find(f"{key}=")
    if at == 0 or (at > 0 and tres[at - 1] == ","):  # the common case, without splitting
        value = tres[at + len(key) + 1 :].split(",", 1)[0]
        if digits_only(value) and len(value) <= MAX_DIGITS:
            return int(value)
        raise ValueError(f"{key} is not a whole number: {value!r}")
    if f"{key}:" not in tres:
        return 0
    total = 0
    for item in tres.split(","):
        name, _, value = item.partition("=")
        if name.startswith(f"{key}:"):
            if not digits_only(value) or len(value) > MAX_DIGITS:
                raise ValueError(f"{name} is not a whole number: {value!r}")
            total += int(value)
    return total
