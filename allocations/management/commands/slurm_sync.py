"""Print the ``sacctmgr`` commands that bring a Slurm cluster to the wanted state (PRODUCT §8).

    python manage.py slurm_sync --cluster jupiter
    sacctmgr -P show assoc format=Cluster,Account,User,GrpTRESMins,QOS > now.txt
    python manage.py slurm_sync --cluster jupiter --current now.txt

Only prints: each command on stdout after a ``#`` comment line that explains it (pipe it into
``sh`` to apply). Members without a cluster login on the cluster are reported on stderr too.
See ``allocations.selectors.slurm_sync`` for what is wanted: user associations under each
member's cluster login, an ended allocation's account stopped ``SLURM_GRACE_DAYS`` days after
its period.
"""

from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from allocations.selectors.slurm_sync import CurrentStateError, parse_current, plan, wanted_accounts


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"--today {value!r} is not a date (YYYY-MM-DD).") from error


class Command(BaseCommand):
    help = "Print the sacctmgr commands that bring a Slurm cluster to the wanted state."

    def add_arguments(self, parser):
        parser.add_argument("--cluster", required=True, help="The Slurm cluster name.")
        parser.add_argument(
            "--current",
            metavar="FILE",
            help="Output of `sacctmgr -P show assoc format=Cluster,Account,User,GrpTRESMins,QOS`;"
            " then only the difference is printed.",
        )
        parser.add_argument(
            "--today",
            metavar="YYYY-MM-DD",
            help="The day to plan for (default: today in each call's time zone).",
        )

    def handle(
        self,
        *args,
        cluster: str,
        current: str | None = None,
        today: str | None = None,
        **options,
    ):
        state = None
        if current:
            try:
                text = Path(current).read_text(encoding="utf-8")
            except OSError as error:
                raise CommandError(f"Cannot read {current}: {error}") from error
            try:
                state = parse_current(text, cluster=cluster)
            except CurrentStateError as error:
                raise CommandError(f"{current}: {error}") from error
        wanted = wanted_accounts(cluster=cluster, today=_day(today) if today else None)
        for account in wanted:
            for email in account.missing:
                self.stderr.write(
                    f"{account.account}: {email} has no login on {cluster}; not added."
                    " Set it on the allocation's logins page or in the admin."
                )
        for line in plan(wanted, cluster=cluster, current=state):
            self.stdout.write(line)
