"""Usage import from a directory (PRODUCT §7, §8): the periodic job behind ``USAGE_IMPORT_DIR``.

Every ``*.txt`` and ``*.sacct`` file directly in the directory (``sacct -a -X -P`` output) is
imported with ``usage_import`` unless its content (SHA-256) was imported before, by this job or
by the command, under any name. Files are taken in name order.

The cluster of a file is the first part of its name, before the first ``_`` or ``.``:
``jupiter_2027-05-01.txt`` → ``jupiter``, ``juwels.sacct`` → ``juwels``. Another rule can be
passed as ``cluster_of``.

A file's records, ledger entries and ``UsageFile`` row are written in one transaction, so it is
either imported and recorded, or neither (a worker killed mid-file imports it again next time).
A file whose content changed (still being written, or sacct run again over a longer span) is
imported again: jobs already recorded change nothing, re-reported jobs write their difference,
new jobs are charged. Two runs at the same time import one after the other (the import's lock),
and the second finds the content recorded.
"""

import hashlib
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from allocations.models import UsageFile
from allocations.services.usage_import import ImportReport, usage_import

log = logging.getLogger(__name__)

SUFFIXES = {".txt", ".sacct"}
CHUNK = 1 << 20


@dataclass(frozen=True)
class ImportedFile:
    path: Path
    cluster: str
    sha256: str
    report: ImportReport


def cluster_from_name(path: Path) -> str:
    """``jupiter_2027-05-01.txt`` → ``jupiter``: the name up to the first ``_`` or ``.``."""
    return re.split(r"[_.]", path.name, maxsplit=1)[0]


def import_usage_directory(
    *, directory: Path, cluster_of: Callable[[Path], str] = cluster_from_name
) -> list[ImportedFile]:
    """Import the new and changed usage files of ``directory``; see the module doc.

    Returns the files imported by this run. A file that cannot be read is logged and left for
    the next run; it does not stop the others."""
    imported = []
    for path in _candidates(Path(directory)):
        key = str(path)
        try:
            sha = _sha256(path)
            if UsageFile.objects.filter(sha256=sha).exists():
                continue
            cluster = cluster_of(path)
            if not cluster:
                log.warning("usage file without a cluster name", extra={"ctx_path": key})
                continue
            result = _import_file(path, key=key, sha=sha, cluster=cluster)
        except OSError:
            log.exception("usage file not readable", extra={"ctx_path": key})
            continue
        if result is not None:
            imported.append(result)
            log.info(
                "usage file imported",
                extra={
                    "ctx_path": key,
                    "ctx_cluster": cluster,
                    "ctx_charged": result.report.charged,
                },
            )
    return imported


def _candidates(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in SUFFIXES and p.is_file())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _import_file(path: Path, *, key: str, sha: str, cluster: str) -> ImportedFile | None:
    with path.open("rb") as f:
        report = usage_import(lines=_lines(f), cluster=cluster, source=key, sha256=sha)
    if report.already_imported:
        return None
    return ImportedFile(path=path, cluster=cluster, sha256=sha, report=report)


def _lines(f) -> Iterator[str]:
    for raw in f:
        yield raw.decode("utf-8", errors="replace")
