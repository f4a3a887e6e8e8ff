"""Benchmark: the Slurm usage import (PRODUCT §10: 1,000,000 sacct lines in under 30 s on a
2-core machine with PostgreSQL), next to the limit of PostgreSQL's own ``COPY`` of the same rows.

Run from the repository root::

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/allot_usagebench
    .venv/bin/python benchmarks/usage_import.py [--lines 1000000] [--file /tmp/sacct.txt]

The database is created if missing and migrated; ``--accounts`` allocations on one resource of
the cluster are bulk-built (``benchmarks.build_allocations``) the first time and reused. The
sacct file is written with ``benchmarks.sacct_generate`` unless ``--file`` exists already. The
import runs in a transaction that is rolled back at the end (``--keep`` commits it), so every run
imports the same jobs as new. Prints lines per second, seconds, the process's maximum RSS and,
with ``--tracemalloc`` (slower), Python's traced peak; then the seconds of
``COPY raw FROM STDIN`` of the same well-formed lines into a bare temporary table of text
columns.
"""

import argparse
import contextlib
import os
import resource
import sys
import time
import tracemalloc
from collections import defaultdict
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key")

from benchmarks.assignment import mib  # noqa: E402
from benchmarks.database import setup_on_postgresql  # noqa: E402
from benchmarks.sacct_generate import HEADER, write  # noqa: E402

START, END = date(2025, 5, 1), date(2026, 4, 30)
USAGE_TABLES = (
    "allocations_ledgerentry",
    "allocations_usagerecord",
    "allocations_usageday",
    "allocations_allocationresource",
)
# Where the import's time goes: each SQL statement by what it writes (first match).
PHASES = (
    ("SET CONSTRAINTS", "ledger rows' foreign-key checks"),
    ("INTO allocations_ledgerentry", "ledger rows appended"),
    ("INTO allocations_usagerecord", "records inserted"),
    ("UPDATE allocations_usagerecord", "records updated"),
    ("INTO allocations_usageday", "day totals inserted"),
    ("UPDATE allocations_usageday", "day totals updated"),
    ("TABLE allot_delta", "differences summed per key"),
    ("TABLE allot_change", "jobs compared with the records"),
    ("FROM allot_stage", "repeated jobs dropped"),
    ("allocationresource", "quota states refreshed"),
)


class Rollback(Exception):
    pass


def copy_seconds(path: Path) -> tuple[float, int]:
    """Seconds to ``COPY`` the well-formed lines of ``path`` into a bare temporary table."""
    from django.db import connection, transaction

    columns = HEADER.split("|")
    width = len(columns) - 1
    rows = 0
    with transaction.atomic():
        connection.ensure_connection()
        raw = connection.connection
        with raw.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE raw ("
                + ", ".join(f'"{c}" text' for c in columns)
                + ") ON COMMIT DROP"
            )
            start = time.perf_counter()
            with (
                path.open(encoding="utf-8") as lines,
                cursor.copy("COPY raw FROM STDIN (FORMAT text, DELIMITER '|')") as copy,
            ):
                next(lines)
                for line in lines:
                    if line.count("|") == width:
                        copy.write(line)
                        rows += 1
            seconds = time.perf_counter() - start
            cursor.execute("SELECT count(*) FROM raw")
            assert cursor.fetchone()[0] == rows
    return seconds, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--cluster", default="benchcluster")
    parser.add_argument("--prefix", default="ub")
    parser.add_argument("--file", type=Path, help="sacct file (written when missing)")
    parser.add_argument("--keep", action="store_true", help="commit the import")
    parser.add_argument("--tracemalloc", action="store_true", help="trace Python's peak (slow)")
    args = parser.parse_args()

    setup_on_postgresql()
    from django.db import connection, transaction

    from allocations.services.usage_import import usage_import
    from benchmarks.build_allocations import build_allocations

    start = time.perf_counter()
    _, allocations = build_allocations(
        args.accounts, prefix=args.prefix, cluster=args.cluster, start=START, end=END
    )
    print(f"{len(allocations)} allocations: ready in {time.perf_counter() - start:.1f} s")

    path = sacct_file(args)
    size = path.stat().st_size

    # Each run's rolled-back rows stay behind as dead tuples and index entries for the same
    # jobs, which every later run's lookups and inserts would wade through: clean them first.
    with connection.cursor() as cursor:
        for table in USAGE_TABLES:
            cursor.execute(f"VACUUM ANALYZE {table}")

    if args.tracemalloc:
        tracemalloc.start()
    report = None
    timer = StatementTimer()
    start = time.perf_counter()
    try:
        with (
            transaction.atomic(),
            connection.execute_wrapper(timer),
            timer.timing_copy(),
            path.open(encoding="utf-8") as lines,
        ):
            report = usage_import(lines=lines, cluster=args.cluster)
            # The foreign-key checks of the new rows are deferred to the commit: run them now,
            # so that the figure is that of a committed import even when it is rolled back.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            seconds = time.perf_counter() - start
            if not args.keep:
                raise Rollback
    except Rollback:
        pass
    total = time.perf_counter() - start
    traced = tracemalloc.get_traced_memory()[1] if args.tracemalloc else None
    tracemalloc.stop()
    print(f"file {path} ({size / 2**20:.0f} MiB), {report.lines_read} lines read")
    print_report(report, seconds, total, traced, kept=args.keep)
    timer.print(seconds)
    copied, rows = copy_seconds(path)
    print(
        f"COPY limit: {rows} rows in {copied:.2f} s, {rows / copied:,.0f} rows/s"
        f" (usage_import is {seconds / copied:.1f}× that)"
    )
    keyed, records = copy_records_seconds(path, args.cluster)
    print(
        f"COPY of the {records} jobs alone into a table of the records' shape and key: "
        f"{keyed:.2f} s ({keyed / copied:.1f}× the COPY limit; usage_import is "
        f"{seconds / keyed:.1f}× that)"
    )


class StatementTimer:
    """Seconds per phase of the import: each SQL statement timed (``execute_wrapper``) and
    put in the first of ``PHASES`` its text names, plus the ``COPY`` into the staging table
    (``_Stage.write`` and ``finish``, wrapped while the import runs). What is left is
    Python's reading and checking of the lines."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            phase = next((name for text, name in PHASES if text in sql), "other statements")
            self.seconds[phase] += time.perf_counter() - start

    @contextlib.contextmanager
    def timing_copy(self):
        from allocations.services import usage_stage

        stage = usage_stage._Stage
        originals = {"write": stage.write, "finish": stage.finish}

        def timed(method):
            def run(*args):
                start = time.perf_counter()
                method(*args)
                self.seconds["jobs copied into the staging table"] += time.perf_counter() - start

            return run

        for name, method in originals.items():
            setattr(stage, name, timed(method))
        try:
            yield
        finally:
            for name, method in originals.items():
                setattr(stage, name, method)

    def print(self, total: float) -> None:
        python = total - sum(self.seconds.values())
        print("where the time goes:")
        rows = sorted({**self.seconds, "Python reading and checking lines": python}.items())
        for phase, seconds in sorted(rows, key=lambda item: -item[1]):
            print(f"  {seconds:6.2f} s  {100 * seconds / total:4.1f} %  {phase}")


def copy_records_seconds(path: Path, cluster: str) -> tuple[float, int]:
    """Seconds to ``COPY`` one row per job (the records' columns) into a logged table made
    ``LIKE allocations_usagerecord INCLUDING ALL`` (its key and identity): the floor of
    writing the records alone, whatever else an import does. Rolled back."""
    from django.db import connection, transaction

    columns = HEADER.split("|")
    at = {name: columns.index(name) for name in ("JobIDRaw", "Account", "User", "End")}
    seen: set[str] = set()
    rows = []
    with path.open(encoding="utf-8") as lines:
        next(lines)
        for line in lines:
            values = line.rstrip("\n").split("|")
            if len(values) != len(columns) or not values[at["End"]][:4].isdigit():
                continue
            job_id = values[at["JobIDRaw"]]
            if job_id in seen or not job_id.isdigit():
                continue
            seen.add(job_id)
            rows.append(
                f"{cluster}\t{job_id}\t{values[at['Account']]}\t{values[at['User']]}\t"
                f"{values[at['End']][:10]}\t1\t1\t1\t1\t1\t1\n"
            )
    names = "cluster, job_id, account, user_name, ended_on, charge, member_id, usage_file_id, "
    names += "line, allocation_id, resource_id"
    try:
        with transaction.atomic():
            connection.ensure_connection()
            with connection.connection.cursor() as cursor:
                cursor.execute(
                    "CREATE TABLE bench_records (LIKE allocations_usagerecord INCLUDING ALL)"
                )
                start = time.perf_counter()
                with cursor.copy(f"COPY bench_records ({names}) FROM STDIN") as copy:
                    for at_row in range(0, len(rows), 20_000):
                        copy.write("".join(rows[at_row : at_row + 20_000]))
                seconds = time.perf_counter() - start
                raise Rollback
    except Rollback:
        pass
    return seconds, len(rows)


def sacct_file(args: argparse.Namespace) -> Path:
    """The sacct file to import: ``--file``, or one written for these arguments (once)."""
    path = args.file or Path(f"/tmp/sacct-{args.prefix}-{args.accounts}-{args.lines}.txt")
    if not path.exists():
        start = time.perf_counter()
        write(
            path,
            args.lines,
            accounts=args.accounts,
            prefix=args.prefix,
            cluster=args.cluster,
            start=START,
            end=END,
        )
        print(f"{path}: written in {time.perf_counter() - start:.1f} s")
    return path


def print_report(report, seconds: float, total: float, traced: int | None, *, kept: bool) -> None:
    """What the import did, its speed against the target, and the peak memory."""
    lines_read = report.lines_read
    print(
        f"charged {report.charged}, corrected {report.corrected}, duplicates "
        f"{report.duplicates}, skipped {sum(report.skipped.values())} {dict(report.skipped)}"
    )
    print(
        f"usage_import: {seconds:.2f} s, {lines_read / seconds:,.0f} lines/s"
        f" (with the {'commit' if kept else 'rollback'} {total:.2f} s;"
        " target 1,000,000 lines under 30 s)"
    )
    if lines_read < 1_000_000:
        print(f"  extrapolated to 1,000,000 lines: {seconds * 1_000_000 / lines_read:.1f} s")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"peak memory: max RSS {mib(rss)}" + (f", traced {mib(traced)}" if traced else ""))


if __name__ == "__main__":
    main()
