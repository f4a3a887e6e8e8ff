"""Usage pushed through the API (PRODUCT §8, §9): centre staff upload a sacct file, a Celery
job imports it with the usage import, the status endpoint returns its report."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from allocations.enums import LedgerKind
from allocations.models import LedgerEntry, UsageFile
from api.enums import PushState, TokenScope
from api.models import UsagePush
from api.services import usage_push_run
from tests.allocation_factories import make_allocation
from tests.api.conftest import bearer, token_for
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

HEADER = "JobIDRaw|Cluster|Account|User|Partition|State|Start|End|ElapsedRaw|AllocTRES"
TRES = "billing=96,cpu=288,gres/gpu=4,mem=480G,node=1"


def sacct(account: str) -> bytes:
    lines = [
        HEADER,
        # 4 GPUs for 2 hours: 8 GPU-hours.
        f"7001|jupiter|{account}|mia|booster|COMPLETED|2027-06-01T10:00:00|"
        f"2027-06-01T12:00:00|7200|{TRES}",
        f"7002|jupiter|nosuchaccount|mia|booster|COMPLETED|2027-06-01T10:00:00|"
        f"2027-06-01T12:00:00|7200|{TRES}",
        f"7003|jupiter|{account}|mia|booster|COMPLETED|2027-06-01T10:00:00|"
        f"2027-06-01T12:00:00|soon|{TRES}",
    ]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def allocation(pi):
    cache.clear()
    mia = make_user("mia@uni.example", full_name="Mia Member")
    return make_allocation(pi=pi, members=[mia])


def push(client, raw, content: bytes, cluster: str = "jupiter"):
    upload = SimpleUploadedFile("usage.txt", content, content_type="text/plain")
    return client.post("/api/v1/usage", {"cluster": cluster, "file": upload}, **bearer(raw))


def test_centre_staff_push_a_file_and_read_its_report(
    client, manager, allocation, django_capture_on_commit_callbacks
):
    raw = token_for(manager, TokenScope.USAGE)
    with django_capture_on_commit_callbacks(execute=True):
        response = push(client, raw, sacct(allocation.account))
    assert response.status_code == 202
    queued = response.json()
    assert (queued["state"], queued["cluster"], queued["report"]) == ("queued", "jupiter", {})
    status = client.get(f"/api/v1/usage/{queued['id']}", **bearer(raw)).json()
    assert status["state"] == "done"
    report = status["report"]
    assert (report["lines_read"], report["charged"], report["duplicates"]) == (4, 1, 0)
    assert [(p["line"], p["field"]) for p in report["problems"]] == [
        (3, "Account"),
        (4, "ElapsedRaw"),
    ]
    usage = LedgerEntry.objects.get(allocation=allocation, kind=LedgerKind.USAGE)
    assert usage.amount == Decimal("-8")
    usage_file = UsageFile.objects.get(path=f"api-push:{queued['id']}")
    assert usage_file.cluster == "jupiter"
    assert usage_file.report_summary == report["text"]


def test_the_import_runs_once_however_often_the_job_runs(
    client, manager, allocation, django_capture_on_commit_callbacks
):
    raw = token_for(manager, TokenScope.USAGE)
    with django_capture_on_commit_callbacks(execute=True):
        pushed = push(client, raw, sacct(allocation.account)).json()
    usage_push_run(push_id=pushed["id"])
    usage_push_run(push_id=pushed["id"])
    assert LedgerEntry.objects.filter(allocation=allocation, kind=LedgerKind.USAGE).count() == 1
    # The same file pushed again is charged nothing more: its content was imported before.
    with django_capture_on_commit_callbacks(execute=True):
        again = push(client, raw, sacct(allocation.account)).json()
    report = UsagePush.objects.get(pk=again["id"]).report
    assert (report["charged"], report["already_imported"]) == (0, True)
    assert LedgerEntry.objects.filter(allocation=allocation, kind=LedgerKind.USAGE).count() == 1


def test_a_cluster_no_resource_is_on_is_refused(client, manager, allocation):
    raw = token_for(manager, TokenScope.USAGE)
    response = push(client, raw, sacct(allocation.account), cluster="nowhere")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "No resource is on Slurm cluster nowhere. Clusters of the resources: jupiter."
    }
    assert UsagePush.objects.count() == 0


def test_a_file_over_the_limit_is_refused(client, manager, allocation, settings):
    settings.API_USAGE_MAX_BYTES = 100
    raw = token_for(manager, TokenScope.USAGE)
    response = push(client, raw, sacct(allocation.account))
    assert response.status_code == 400
    assert response.json() == {"detail": "The file is larger than 100 bytes (API_USAGE_MAX_BYTES)."}
    assert UsagePush.objects.count() == 0


def test_a_push_without_its_file_gets_422(client, manager, allocation):
    raw = token_for(manager, TokenScope.USAGE)
    response = client.post("/api/v1/usage", {"cluster": "jupiter"}, **bearer(raw))
    assert response.status_code == 422
    assert UsagePush.objects.count() == 0


def test_researchers_cannot_push_or_read_a_push(client, pi, manager, allocation):
    staff = token_for(manager, TokenScope.USAGE)
    pushed = push(client, staff, sacct(allocation.account)).json()
    researcher = token_for(pi)
    assert push(client, researcher, sacct(allocation.account)).status_code == 403
    assert client.get(f"/api/v1/usage/{pushed['id']}", **bearer(researcher)).status_code == 404
    assert client.get("/api/v1/usage", **bearer(staff)).status_code == 405
    assert UsagePush.objects.get().state == PushState.QUEUED


def test_the_slurm_plan_for_centre_staff(client, manager, pi, allocation):
    response = client.get("/api/v1/slurm/jupiter/plan", **bearer(token_for(manager)))
    assert response.status_code == 200
    plan = response.json()
    assert plan["cluster"] == "jupiter"
    assert plan["skipped"] == []
    from allocations.selectors.slurm_sync import plan as sync_plan
    from allocations.selectors.slurm_sync import wanted_accounts

    assert plan["commands"] == sync_plan(wanted_accounts(cluster="jupiter"), cluster="jupiter")
    assert client.get("/api/v1/slurm/jupiter/plan", **bearer(token_for(pi))).status_code == 403
    staff = bearer(token_for(manager))
    assert client.post("/api/v1/slurm/jupiter/plan", **staff).status_code == 405
