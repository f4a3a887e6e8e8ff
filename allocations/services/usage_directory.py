"""Usage import from a directory (PRODUCT §7, §8): the periodic job behind ``USAGE_IMPORT_DIR``.

Every ``*.txt`` and ``*.sacct`` file directly in the directory (``sacct -a -X -P`` output) is
imported with ``usage_import`` unless its path is recorded in ``UsageFile`` with the same
SHA-256, i.e. unless this very content was imported already. Files are taken in name order.

The cluster of a file is the first part of its name, before the first ``_`` or ``.``:
``jupiter_2027-05-01.txt`` → ``jupiter``, ``juwels.sacct`` → ``juwels``. Another rule can be
passed as ``cluster_of``.

A file is recorded in the same transaction as its ledger entries, so it is either imported and
recorded, or neither (a worker killed mid-file imports it again from scratch next time). A file
whose content changed (e.g. it was still being written, or sacct was run again over a longer
span) is imported again as a whole: the jobs already charged are duplicates, re-reported jobs
get a correcting entry, new jobs are charged, so only the difference counts.

Two runs at the same time cannot both import a file: the ``UsageFile`` row is inserted (unique
path) or locked before the import, so the second one waits and then skips it.
"""

import hashlib
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils import timezone

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
            if UsageFile.objects.filter(path=key, sha256=sha).exists():
                continue
            cluster = cluster_of(path)
            if not cluster:
                log.warning("usage file without a cluster name", extra={"ctx_path": key})
                continue
            result = _import_file(path, key=key, sha=sha, cluster=cluster)
        except OSError:
            log.exception("usage file not readable", extra={"ctx_path": key})
            continue
        except IntegrityError:  # another run inserted the row first and imported the file
            log.info("usage file imported by another run", extra={"ctx_path": key})
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
    with transaction.atomic():
        row = UsageFile.objects.select_for_update().filter(path=key).first()
        if row is None:
            # Inserted before importing: a concurrent run blocks on the unique path until this
            # transaction ends, then fails with IntegrityError and skips the file.
            row = UsageFile.objects.create(
                path=key, sha256="", cluster=cluster, imported_at=timezone.now()
            )
        elif row.sha256 == sha:  # imported by another run while this one waited for the lock
            return None
        digest = hashlib.sha256()
        with path.open("rb") as f:
            # The content recorded is the content imported, even if the file changed since
            # it was hashed above.
            report = usage_import(lines=_lines(f, digest), cluster=cluster)
            for rest in iter(lambda: f.read(CHUNK), b""):  # a header problem stops early
                digest.update(rest)
        row.sha256 = digest.hexdigest()
        row.cluster = cluster
        row.imported_at = timezone.now()
        row.report_summary = str(report)
        row.save()
    return ImportedFile(path=path, cluster=cluster, sha256=row.sha256, report=report)


def _lines(f, digest) -> Iterator[str]:
    for raw in f:
        digest.update(raw)
        yield raw.decode("utf-8", errors="replace")
