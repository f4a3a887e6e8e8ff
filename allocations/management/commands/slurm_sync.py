"""Print the ``sacctmgr`` commands that bring a Slurm cluster to the wanted state (PRODUCT §8).

    python manage.py slurm_sync --cluster jupiter
    sacctmgr -P show assoc format=Cluster,Account,User,GrpTRESMins,QOS > now.txt
    python manage.py slurm_sync --cluster jupiter --current now.txt

Only prints, one command per line on stdout (pipe it into ``sh`` to apply); members whose email
gives no valid Slurm user name are reported on stderr. See ``allocations.slurm_sync`` for what
is wanted (the Slurm user name is the local part of the member's email address).
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from allocations.selectors.slurm_sync import CurrentStateError, parse_current, plan, wanted_accounts


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

    def handle(self, *args, cluster: str, current: str | None = None, **options):
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
        wanted = wanted_accounts(cluster=cluster)
        for account in wanted:
            for email in account.skipped:
                self.stderr.write(
                    f"{account.account}: {email} gives no valid Slurm user name; skipped."
                )
        for command in plan(wanted, cluster=cluster, current=state):
            self.stdout.write(command)
