"""``python manage.py import_usage FILE --cluster NAME [--dry-run] [--json]``: usage from Slurm.

FILE is ``sacct -a -X -P --format=JobIDRaw,Cluster,Account,User,Partition,State,Start,End,
ElapsedRaw,AllocTRES`` output (any column order), or ``-`` for standard input. Prints the first
problems, the counts by kind and, per unknown account, its lines and the hours not charged (the
whole report with ``--json``, and in the usage file's record); on a terminal, a progress bar
(share of the file read, lines, lines per second) that redraws itself in place.

Exit status, for cron: 0 imported clean (or content imported before: nothing changed),
3 imported with problems (bad lines, unknown accounts or users; the rest went in), 4 not
imported (the header lacks columns, the file is unreadable or no resource is on the cluster).
"""

import hashlib
import json as jsonlib
import os
import sys
import time
from collections.abc import Iterable, Iterator

from django.core.management.base import BaseCommand, CommandError

from allocations.models import Resource
from allocations.services.usage_import import Outcome, usage_import

BAR_WIDTH = 30
PROGRESS_EVERY = 20_000  # lines
FIRST_PROBLEMS = 20  # printed; the rest are in --json and the usage file's report
EXIT_PROBLEMS = 3
EXIT_NOT_IMPORTED = 4


class Command(BaseCommand):
    help = "Import Slurm usage (sacct -a -X -P output) into the allocations' ledgers."

    def add_arguments(self, parser):
        parser.add_argument("file", help="sacct -a -X -P output, or - for standard input")
        parser.add_argument("--cluster", required=True, help="the Slurm cluster's name")
        parser.add_argument(
            "--dry-run", action="store_true", help="report what would be written; write nothing"
        )
        parser.add_argument("--json", action="store_true", help="print the whole report as JSON")

    def handle(self, *args, file: str, cluster: str, dry_run: bool, json: bool, **options):
        clusters = sorted(set(Resource.objects.values_list("slurm_cluster", flat=True)) - {""})
        if cluster not in clusters:
            known = ", ".join(clusters) or "none yet; set it on the resources in the admin"
            raise CommandError(
                f"No resource is on Slurm cluster {cluster!r}, so none of its jobs could be "
                f"charged. Clusters of the resources: {known}.",
                returncode=EXIT_NOT_IMPORTED,
            )
        try:
            sha256 = None if file == "-" else _sha256(file)
            stream = (
                sys.stdin
                if file == "-"
                else open(file, encoding="utf-8", errors="replace", newline="")  # noqa: SIM115
            )
            size = 0 if file == "-" else os.fstat(stream.fileno()).st_size
        except OSError as error:
            raise CommandError(
                f"Cannot read {file}: {error}", returncode=EXIT_NOT_IMPORTED
            ) from error
        progress = _Progress(self.stdout, size) if self.stdout.isatty() and not json else None
        with stream:
            lines = progress.counting(stream) if progress else stream
            report = usage_import(
                lines=lines,
                cluster=cluster,
                source="(standard input)" if file == "-" else file,
                sha256=sha256,
                dry_run=dry_run,
                progress=progress,
                progress_every=PROGRESS_EVERY,
            )
        if progress:
            progress.done(report.lines_read)
        if json:
            self.stdout.write(jsonlib.dumps(report.as_dict(), indent=2, ensure_ascii=False))
        else:
            self.stdout.write("\n".join(report.lines(first=FIRST_PROBLEMS)))
        if report.outcome == Outcome.REFUSED:
            sys.exit(EXIT_NOT_IMPORTED)
        if report.outcome == Outcome.PROBLEMS:
            sys.exit(EXIT_PROBLEMS)


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class _Progress:
    """``[#######.......]  48 %  480,000 lines  21,000 lines/s``, redrawn on one line."""

    def __init__(self, out, size: int) -> None:
        self.out = out
        self.size = size
        self.read = 0  # characters, close to bytes: sacct output is ASCII
        self.start = time.monotonic()
        self.lines = 0

    def counting(self, stream: Iterable[str]) -> Iterator[str]:
        for line in stream:
            self.read += len(line)
            yield line

    def __call__(self, lines: int) -> None:
        self.lines = lines
        rate = lines / max(time.monotonic() - self.start, 1e-6)
        if self.size:
            share = min(self.read / self.size, 1.0)
            filled = round(share * BAR_WIDTH)
            bar = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {share * 100:3.0f} %  "
        else:
            bar = ""
        self.out.write(f"\r{bar}{lines:,} lines  {rate:,.0f} lines/s", ending="")
        self.out.flush()

    def done(self, lines: int) -> None:
        """The bar at its end, then a new line for the report."""
        if lines != self.lines:
            self.read = self.size
            self(lines)
        self.out.write("")
