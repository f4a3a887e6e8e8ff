"""The demo's resources, calls and accounts (``seed_demo``): what each call offers and asks,
who has which role, and the dates and names of the calls, counted from the day it runs."""

import zoneinfo
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from demo.data import (
    REVIEWER2_EMAIL,
    REVIEWER3_EMAIL,
    REVIEWER4_EMAIL,
)
from proposals.calls.cycles import shift_date, shift_datetime
from proposals.calls.enums import CallRoleKind
from proposals.calls.services import DATE_FIELDS, DATETIME_FIELDS

ZONE = zoneinfo.ZoneInfo("Europe/Berlin")

RESOURCES = [
    {
        "code": "jupiter-booster",
        "name": "JUPITER Booster",
        "unit": "GPU-hours",
        "slurm_cluster": "jupiter",
        "slurm_partition": "booster",
        "charge_rule": "gpu",
        "description": "NVIDIA GH200 nodes with four GPUs each, for training and inference.",
    },
    {
        "code": "juwels-booster",
        "name": "JUWELS Booster",
        "unit": "GPU-hours",
        "slurm_cluster": "juwels",
        "slurm_partition": "booster",
        "charge_rule": "gpu",
        "description": "NVIDIA A100 nodes with four GPUs each, for AI training at medium scale.",
    },
    {
        "code": "juwels-cluster",
        "name": "JUWELS Cluster",
        "unit": "core-hours",
        "slurm_cluster": "juwels",
        "slurm_partition": "batch",
        "charge_rule": "billing",
        "description": "CPU nodes for data preparation, simulation and pre-processing.",
    },
    {
        "code": "project-storage",
        "name": "Project storage",
        "unit": "TB",
        "charge_rule": "none",
        "description": "Shared project file system for data sets and checkpoints.",
    },
]
# resource code: (budget, minimum request, maximum request)
BUDGETS = {
    "jupiter-booster": (Decimal(2_500_000), Decimal(10_000), Decimal(500_000)),
    "juwels-cluster": (Decimal(40_000_000), Decimal(100_000), Decimal(5_000_000)),
    "project-storage": (Decimal(500), Decimal(1), Decimal(100)),
}
# The JUWELS AI call (closed, in review): GPUs on JUWELS and storage. Its six proposals ask
# for 1.29 million GPU-hours and 210 TB: the budget line falls inside the ranking.
JUWELS_AI_BUDGETS = {
    "juwels-booster": (Decimal(1_000_000), Decimal(5_000), Decimal(250_000)),
    "project-storage": (Decimal(200), Decimal(1), Decimal(50)),
}
CRITERIA = [
    {
        "name": "Scientific excellence",
        "description": "Originality and importance of the research question; the team's record.",
        "weight": Decimal(2),
        "scale_min": 0,
        "scale_max": 5,
    },
    {
        "name": "Technical feasibility",
        "description": "Do the codes scale on this machine, and is the request justified?",
        "weight": Decimal(1),
        "scale_min": 0,
        "scale_max": 5,
    },
    {
        "name": "Impact",
        "description": "Benefit to science and society; open models, data and software.",
        "weight": Decimal(1),
        "scale_min": 0,
        "scale_max": 5,
    },
]
GUIDELINES = "\n\n".join(
    [
        "Who can apply: researchers at a university or public research institution in Europe. "
        "The principal investigator must hold a doctorate and a contract that covers the "
        "allocation period.",
        "What to submit: the online form and a project description (PDF, at most 10 pages) "
        "with the scientific goal, the method, the codes and their scaling on GPUs, the data "
        "management plan and the results of previous allocations.",
        "How proposals are reviewed: two scientific reviewers and a technical review by centre "
        "staff; the allocation committee ranks the proposals and proposes awards within the "
        "budget.",
        "The deadline is strict, to the second. Late proposals cannot be accepted.",
    ]
)

ACCOUNTS = [
    {
        "label": "Applicant (PI)",
        "email": "pi@demo.allot.example",
        "full_name": "Paula Investigator",
        "affiliation": "Universität Beispielstadt, Institute for Machine Learning",
        "country": "DE",
        "orcid": "0000-0002-1825-0097",
        "expertise": ["PE6"],
        "keywords": ["large language models", "scaling laws"],
    },
    {
        "label": "Co-investigator",
        "email": "coi@demo.allot.example",
        "full_name": "Carl Coinvestigator",
        "affiliation": "Example Institute of Technology",
        "country": "US",
        "time_zone": "America/New_York",
        "expertise": ["PE6", "PE7"],
        "keywords": ["distributed training"],
    },
    {
        "label": "Reviewer",
        "email": "reviewer@demo.allot.example",
        "full_name": "Rita Reviewer",
        "affiliation": "Université d'Exemple",
        "country": "FR",
        "expertise": ["PE6"],
        "keywords": ["deep learning", "optimisation"],
    },
    {
        "label": "Reviewer 2",
        "email": REVIEWER2_EMAIL,
        "full_name": "Renate Gutachter",
        "affiliation": "Technische Universität Musterstadt",
        "country": "DE",
        "expertise": ["PE2", "PE3", "PE9"],
        "keywords": ["plasma physics", "cosmology", "reinforcement learning"],
    },
    {
        "label": "Reviewer 3",
        "email": REVIEWER3_EMAIL,
        "full_name": "Rafael Revisor",
        "affiliation": "Universidade de Exemplo",
        "country": "PT",
        "time_zone": "Europe/Lisbon",
        "expertise": ["LS5", "PE5"],
        "keywords": ["connectomics", "image segmentation", "materials chemistry"],
    },
    {
        "label": "Reviewer 4 (centre staff)",
        "email": REVIEWER4_EMAIL,
        "full_name": "Theo Technik",
        "affiliation": "Jülich Supercomputing Centre",
        "country": "DE",
        "expertise": ["PE6", "PE10"],
        "keywords": ["GPU scaling", "HPC performance", "Earth system modelling"],
    },
    {
        "label": "Committee member",
        "email": "committee@demo.allot.example",
        "full_name": "Conrad Committee",
        "affiliation": "Universidad de Ejemplo",
        "country": "ES",
        "expertise": ["PE6", "PE1"],
        "keywords": ["numerical methods"],
    },
    {
        "label": "Call manager",
        "email": "manager@demo.allot.example",
        "full_name": "Marta Manager",
        "affiliation": "Jülich Supercomputing Centre",
        "country": "DE",
        "expertise": ["PE6"],
        "keywords": ["HPC operations"],
        "manager": True,
    },
    {
        "label": "Superuser (admin)",
        "email": "admin@demo.allot.example",
        "full_name": "Ada Admin",
        "affiliation": "Jülich Supercomputing Centre",
        "country": "DE",
        "superuser": True,
    },
]
# The closed call's reviewer pool besides the demo reviewer: (email, role, maximum load).
CLOSED_CALL_POOL = [
    (REVIEWER2_EMAIL, CallRoleKind.REVIEWER, 4),
    (REVIEWER3_EMAIL, CallRoleKind.REVIEWER, 3),
    (REVIEWER4_EMAIL, CallRoleKind.REVIEWER, 4),
    (REVIEWER4_EMAIL, CallRoleKind.TECHNICAL, None),
]


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour)).replace(tzinfo=ZONE)


def _period_start_after(day: date) -> date:
    """The first 1 May or 1 November after ``day``: allocation periods start there."""
    for year in (day.year, day.year + 1):
        for month in (5, 11):
            start = date(year, month, 1)
            if start > day:
                return start
    raise AssertionError("unreachable")


def open_call_dates(today: date) -> dict[str, Any]:
    """This half-year's call: opened three weeks ago, closes in six weeks at 17:00 Berlin."""
    closes = _at(today + timedelta(weeks=6), 17)
    review_due = closes + timedelta(weeks=6)
    decisions_due = closes + timedelta(weeks=10)
    period_start = _period_start_after(decisions_due.date())
    return {
        "opens_at": _at(today - timedelta(weeks=3), 9),
        "closes_at": closes,
        "review_due_at": review_due,
        "reply_opens_at": review_due + timedelta(weeks=1),
        "reply_closes_at": review_due + timedelta(weeks=3),
        "decisions_due_at": decisions_due,
        "period_start": period_start,
        "period_end": shift_date(period_start, months=12) - timedelta(days=1),
    }


def shifted(dates: dict[str, Any], months: int) -> dict[str, Any]:
    moved = {
        name: shift_datetime(dates[name], months=months, zone=ZONE) for name in DATETIME_FIELDS
    }
    moved.update({name: shift_date(dates[name], months=months) for name in DATE_FIELDS})
    return moved


def call_names(period_start: date) -> dict[str, str]:
    half = 1 if period_start.month < 11 else 2
    code = f"JUPITER {period_start.year}-{half}"
    return {
        "code": code,
        "name": f"{code}: compute time for AI and simulation",
        "reference_prefix": f"JUP{period_start.year % 100:02d}-{half}",
    }


def closed_call_dates(today: date) -> dict[str, Any]:
    """A call that closed three weeks ago at 17:00 Berlin; reviews are due in three weeks."""
    closes = _at(today - timedelta(weeks=3), 17)
    decisions_due = closes + timedelta(weeks=10)
    period_start = _period_start_after(decisions_due.date())
    return {
        "opens_at": _at(today - timedelta(weeks=15), 9),
        "closes_at": closes,
        "review_due_at": closes + timedelta(weeks=6),
        "reply_opens_at": None,
        "reply_closes_at": None,
        "decisions_due_at": decisions_due,
        "period_start": period_start,
        "period_end": shift_date(period_start, months=12) - timedelta(days=1),
    }


def juwels_ai_names(period_start: date) -> dict[str, str]:
    half = 1 if period_start.month < 11 else 2
    code = f"JUWELS AI {period_start.year}-{half}"
    return {
        "code": code,
        "name": f"{code}: GPU time for AI on the JUWELS Booster",
        "reference_prefix": f"JWA{period_start.year % 100:02d}-{half}",
    }
