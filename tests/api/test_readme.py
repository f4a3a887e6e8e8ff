"""The README's example API session, run as it is written: its ``sh`` blocks, in order, by
bash with curl against a live server, after creating the token on the profile page as the
README says."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from allocations.enums import LedgerKind
from allocations.models import LedgerEntry
from api.models import UsagePush
from tests.allocation_factories import empty_ledger, make_allocation
from tests.conftest import make_user

README = Path(settings.BASE_DIR) / "README.md"
SACCT = (
    "JobIDRaw|Cluster|Account|User|Partition|State|Start|End|ElapsedRaw|AllocTRES\n"
    "8001|jupiter|{account}|mia|booster|COMPLETED|2027-06-01T10:00:00|2027-06-01T12:00:00|"
    "7200|billing=96,cpu=288,gres/gpu=4,mem=480G,node=1\n"
)


def example_session() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("### Example session", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)


def test_the_readme_shows_three_steps():
    blocks = example_session()
    assert len(blocks) == 3
    assert "/api/v1/proposals" in blocks[0]
    assert "/api/v1/usage" in blocks[1] and "/api/v1/usage/$PUSH" in blocks[2]


@pytest.fixture
def _empty_ledger_afterwards():
    yield
    empty_ledger()


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_empty_ledger_afterwards")
def test_the_readme_session_runs_as_written(live_server, manager, tmp_path):
    cache.clear()
    mia = make_user("mia@uni.example", full_name="Mia Member")
    allocation = make_allocation(pi=manager, members=[mia], acronym="READMEPROJ")
    # "Create a token on your profile … the scope Read and push usage (centre staff)".
    client = Client()
    client.force_login(manager)
    profile = client.get("/profile/").content.decode()
    assert "Read and push usage (centre staff)" in profile
    page = client.post(
        "/profile/tokens/", {"name": "README session", "scope": "usage", "days": "30"}
    ).content.decode()
    token = re.search(r'value="(allot_[^"]+)"', page)[1]
    (tmp_path / "usage.txt").write_text(SACCT.format(account=allocation.account))

    script = "\n".join(example_session())
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "TOKEN": token, "ALLOT": live_server.url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    # curl prints each answer as it came, without a line break after it.
    decoder, output, answers = json.JSONDecoder(), result.stdout.strip(), []
    while output:
        answer, end = decoder.raw_decode(output)
        answers.append(answer)
        output = output[end:].strip()
    proposals, report = answers
    assert [p["acronym"] for p in proposals] == ["READMEPROJ"]
    assert (report["state"], report["cluster"]) == ("done", "jupiter")
    assert (report["report"]["charged"], report["report"]["problems"]) == (1, [])
    assert report["id"] == UsagePush.objects.get().pk
    usage = LedgerEntry.objects.get(allocation=allocation, kind=LedgerKind.USAGE)
    assert str(usage.amount.normalize()) == "-8"
