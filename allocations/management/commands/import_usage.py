"""``python manage.py import_usage FILE --cluster NAME [--dry-run]``: usage from Slurm.

FILE is ``sacct -a -X -P --format=JobIDRaw,Cluster,Account,User,Partition,State,Start,End,
ElapsedRaw,AllocTRES`` output (any column order), or ``-`` for standard input. Prints the
import's report; a progress line every 100,000 lines when standard output is a terminal.
"""

import sys

from django.core.management.base import BaseCommand, CommandError

from allocations.usage_import import usage_import


class Command(BaseCommand):
    help = "Import Slurm usage (sacct -a -X -P output) into the allocations' ledgers."

    def add_arguments(self, parser):
        parser.add_argument("file", help="sacct -a -X -P output, or - for standard input")
        parser.add_argument("--cluster", required=True, help="the Slurm cluster's name")
        parser.add_argument(
            "--dry-run", action="store_true", help="report what would be written; write nothing"
        )

    def handle(self, *args, file: str, cluster: str, dry_run: bool, **options):
        progress = None
        if self.stdout.isatty():

            def progress(count: int) -> None:
                self.stdout.write(f"… {count:,} lines read")

        try:
            stream = (
                sys.stdin
                if file == "-"
                else open(file, encoding="utf-8", errors="replace", newline="")  # noqa: SIM115
            )
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error}") from error
        with stream:
            report = usage_import(lines=stream, cluster=cluster, dry_run=dry_run, progress=progress)
        self.stdout.write(str(report))
