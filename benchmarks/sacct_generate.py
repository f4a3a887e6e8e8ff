"""Generate realistic ``sacct -a -X -P`` output for the usage-import benchmark (PRODUCT §8/§10).

Run from the repository root::

    .venv/bin/python benchmarks/sacct_generate.py --lines 1000000 --output /tmp/sacct.txt

The header is ``JobIDRaw|Cluster|Account|User|Partition|State|Start|End|ElapsedRaw|AllocTRES``;
every other line is one job of one of ``--accounts`` accounts (``account_name(prefix, n)`` of
``benchmarks.build_allocations``, a few busy accounts running most jobs), run by the account's
PI or member. GPU counts are 1 to 512 (mostly 1–8), elapsed times up to a day, about 3 % of the
jobs still RUNNING (End ``Unknown``), about 0.5 % of an unknown account and about 0.02 %
malformed lines (missing fields, an unparsable ElapsedRaw or AllocTRES). Deterministic per
``--seed``; written line by line, so memory does not grow with ``--lines``.
"""

import argparse
import random
import sys
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

HEADER = "JobIDRaw|Cluster|Account|User|Partition|State|Start|End|ElapsedRaw|AllocTRES"
GPU_COUNTS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
GPU_WEIGHTS = [30, 15, 25, 12, 7, 5, 3, 1.5, 1, 0.5]
ENDED_STATES = ["COMPLETED"] * 80 + ["FAILED"] * 8 + ["TIMEOUT"] * 5 + ["CANCELLED by 4242"] * 7
PARTITIONS = ["booster", "booster", "booster", "develbooster"]


def account_name(prefix: str, n: int) -> str:  # as benchmarks.build_allocations
    return f"{prefix}{n:05d}"


def sacct_lines(
    lines: int,
    *,
    accounts: int,
    prefix: str,
    cluster: str,
    start: date,
    end: date,
    seed: int = 2027,
    first_job: int = 10_000_000,
) -> Iterator[str]:
    """The header, then ``lines`` job lines (see the module docstring)."""
    rng = random.Random(seed)
    names = [account_name(prefix, n) for n in range(1, accounts + 1)]
    # Zipf-like activity: a few accounts run most of the jobs.
    activity = [1 / (rank**0.8) for rank in range(1, accounts + 1)]
    picks = rng.choices(names, activity, k=min(lines, 200_000))
    origin = datetime.combine(start, datetime.min.time())
    period = int((datetime.combine(end, datetime.min.time()) - origin).total_seconds()) - 172_800
    yield HEADER
    for i in range(lines):
        job = first_job + i
        roll = rng.random()
        if roll < 0.0002:
            yield rng.choice(
                [
                    f"{job}|{cluster}|{picks[i % len(picks)]}|x|booster",
                    f"{job}|{cluster}|{picks[i % len(picks)]}|x-pi|booster|COMPLETED|"
                    f"2027-06-01T10:00:00|2027-06-01T11:00:00|12h|billing=4,gres/gpu=4",
                    f"{job}|{cluster}|{picks[i % len(picks)]}|x-pi|booster|COMPLETED|"
                    f"2027-06-01T10:00:00|2027-06-01T11:00:00|3600|gres/gpu=four",
                    f"{job}|{cluster}|x|y|booster|COMPLETED|a|b|1|gres/gpu=1|extra|fields",
                ]
            )
            continue
        account = picks[i % len(picks)] if roll > 0.005 else f"gone{job % 97:03d}"
        user = f"{account}-{'pi' if rng.random() < 0.6 else 'm1'}"
        partition = rng.choice(PARTITIONS)
        gpus = rng.choices(GPU_COUNTS, GPU_WEIGHTS)[0]
        nodes = max(1, gpus // 4)
        elapsed = rng.randint(60, 86_400 if gpus <= 64 else 6 * 3600)
        started = origin + timedelta(seconds=rng.randrange(period))
        if rng.random() < 0.03:
            state, ended = "RUNNING", "Unknown"
        else:
            state = rng.choice(ENDED_STATES)
            ended = (started + timedelta(seconds=elapsed)).isoformat()
        tres = (
            f"billing={gpus * 12},cpu={gpus * 72},gres/gpu={gpus},mem={nodes * 480}G,node={nodes}"
        )
        yield (
            f"{job}|{cluster}|{account}|{user}|{partition}|{state}|{started.isoformat()}|{ended}|"
            f"{elapsed}|{tres}"
        )


def write(path: Path, lines: int, **options) -> int:
    """Write ``sacct_lines(lines, **options)`` to ``path``; the number of bytes written."""
    size = 0
    with path.open("w", encoding="utf-8", buffering=1 << 20) as out:
        for line in sacct_lines(lines, **options):
            size += out.write(line + "\n")
    return size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--prefix", default="ub")
    parser.add_argument("--cluster", default="benchcluster")
    parser.add_argument("--start", type=date.fromisoformat, default=date(2025, 5, 1))
    parser.add_argument("--end", type=date.fromisoformat, default=date(2026, 4, 30))
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--output", type=Path, help="file to write (default: standard output)")
    args = parser.parse_args()
    options = {
        "accounts": args.accounts,
        "prefix": args.prefix,
        "cluster": args.cluster,
        "start": args.start,
        "end": args.end,
        "seed": args.seed,
    }
    if args.output is None:
        for line in sacct_lines(args.lines, **options):
            sys.stdout.write(line + "\n")
    else:
        size = write(args.output, args.lines, **options)
        print(f"{args.output}: {args.lines} jobs, {size / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
