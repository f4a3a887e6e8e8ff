"""A generated ``sacct -a -X -P`` file for the demo's active allocation (issue 12, point 9).

Pure: the lines for an account, a user and a period up to ``now``. Each past month of the
period uses a part of its monthly share (so some carry-over is forfeited), and the current
month uses more than its quota plus what may be borrowed (so it runs at low priority). Job ids
are fixed per month and job, so running the seed again on another day re-reports the same jobs:
the import records only what changed.
"""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

HEADER = "JobIDRaw|Cluster|Account|User|Partition|State|Start|End|ElapsedRaw|AllocTRES"
GPUS = 64
# Share of the monthly quota used, per month of the period: past months, then this month.
PAST_PATTERN = (Decimal("0.4"), Decimal("1.3"), Decimal("0.7"), Decimal("0.2"), Decimal("1.0"))
CURRENT_MONTH = Decimal("3.2")
JOBS_PER_MONTH = 8


def month_starts(start: date, today: date) -> list[date]:
    months, day = [], date(start.year, start.month, 1)
    while day <= today:
        months.append(day)
        day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return months


def sacct_lines(
    *,
    account: str,
    user: str,
    cluster: str,
    partition: str,
    start: date,
    monthly_share: Decimal,
    now: datetime,
) -> list[str]:
    """The demo's sacct output: header and one line per job, every job ended before ``now``
    (a naive local time, as sacct writes)."""
    lines = [HEADER]
    months = month_starts(start, now.date())
    for index, first in enumerate(months):
        current = index == len(months) - 1
        share = CURRENT_MONTH if current else PAST_PATTERN[index % len(PAST_PATTERN)]
        gpu_hours = monthly_share * share
        seconds = int(gpu_hours * 3600 / GPUS / JOBS_PER_MONTH)
        for job in range(JOBS_PER_MONTH):
            end = datetime.combine(first, datetime.min.time()) + timedelta(
                days=min(job * 3, 27), hours=6
            )
            if current:  # ended before now, but this month (at 00:00 on its first day)
                end = max(min(end, now - timedelta(hours=1)), datetime.combine(first, time()))
            begin = end - timedelta(seconds=seconds)
            lines.append(
                "|".join(
                    [
                        str(900_000 + index * 100 + job),
                        cluster,
                        account,
                        user,
                        partition,
                        "COMPLETED",
                        begin.isoformat(timespec="seconds"),
                        end.isoformat(timespec="seconds"),
                        str(seconds),
                        f"billing={GPUS * 4},cpu={GPUS * 12},gres/gpu={GPUS},node={GPUS // 4}",
                    ]
                )
            )
    return lines
