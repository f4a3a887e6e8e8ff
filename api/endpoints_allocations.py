"""The API's allocations, usage pushes and Slurm plan (PRODUCT §8, §9): operations of the one
``api`` of ``api.endpoints``, registered when ``api.urls`` imports this module."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from ninja import File, Form, Path, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from allocations.selectors.ledger import ResourceLedger, ledger_entries
from allocations.selectors.manage import manager_allocations
from allocations.selectors.researcher import get_allocation_for_user, my_allocations
from allocations.selectors.slurm_sync import plan, wanted_accounts
from api import auth, schemas
from api.endpoints import CLUSTER_PATTERN, ERRORS, MAX_ID, _user, api
from api.rules import is_centre_staff
from api.selectors import get_push_for_user
from api.services import usage_push_create
from proposals.calls.selectors import get_call_for_manager


def _balances(lines: list[ResourceLedger]) -> list[dict]:
    result = []
    for line in lines:
        today = line.quota.today
        result.append(
            {
                "resource": line.resource.name,
                "code": line.resource.code,
                "unit": line.resource.unit,
                "awarded": line.totals.awarded,
                "used": line.totals.used,
                "forfeited": line.totals.forfeited,
                "left": line.totals.balance,
                "policy": line.quota.policy,
                "this_month": None
                if today is None
                else {
                    "month": today.month,
                    "quota": today.quota,
                    "used": today.used,
                    "left": today.left,
                    "can_borrow": today.can_borrow,
                    "state": str(today.state),
                },
            }
        )
    return result


def _allocation(allocation, period: str, lines: list[ResourceLedger]) -> dict:
    return {
        "id": allocation.pk,
        "account": allocation.account,
        "call_id": allocation.proposal.call_id,
        "call_code": allocation.proposal.call.code,
        "reference": allocation.proposal.reference,
        "pi": allocation.pi.full_name,
        "start": allocation.start,
        "end": allocation.end,
        "period": period,
        "balances": _balances(lines),
    }


CALL_ALLOCATIONS_MAX = 10_000


@api.get(
    "/calls/{call_id}/allocations",
    response={200: list[schemas.AllocationOut], **ERRORS},
    tags=["decisions"],
    auth=auth.read,
)
def call_allocations(request: HttpRequest, call_id: int = Path(..., ge=1, le=MAX_ID)):
    """Every allocation of the call with its balances and this month's quota: call managers
    (whose token's owner has the second factor on); 403 for anyone else."""
    found = get_call_for_manager(user=_user(request), pk=call_id)
    # A call's allocations on one page (a call awards at most a few thousand).
    _page, rows = manager_allocations(call=found, per_page=CALL_ALLOCATIONS_MAX)
    return [
        _allocation(row.allocation, row.period, [line.ledger for line in row.lines]) for row in rows
    ]


@api.get(
    "/allocations",
    response={200: list[schemas.AllocationOut], **ERRORS},
    tags=["allocations"],
    auth=auth.read,
)
def allocations(request: HttpRequest):
    """The allocations you lead or are a member of: awarded, used, left per resource, this
    month's quota and its state (normal or low priority)."""
    return [
        _allocation(s.allocation, s.period, s.lines) for s in my_allocations(user=_user(request))
    ]


@api.get(
    "/allocations/{allocation_id}/ledger",
    response={200: list[schemas.LedgerEntryOut], **ERRORS},
    tags=["allocations"],
    auth=auth.read,
)
def ledger(request: HttpRequest, allocation_id: int = Path(..., ge=1, le=MAX_ID)):
    """Every ledger entry of an allocation, oldest first: for its PI, members and call
    managers; 404 for anyone else."""
    found = get_allocation_for_user(user=_user(request), pk=allocation_id)
    return [
        {
            "id": entry.pk,
            "resource": entry.resource.name,
            "kind": entry.kind,
            "amount": entry.amount,
            "occurred_at": entry.occurred_at,
            "reason": entry.reason,
            "member": entry.user.full_name if entry.user else None,
        }
        for entry in ledger_entries(allocation=found)
    ]


# --- Usage and Slurm (centre staff) ----------------------------------------------------------


def _push(push) -> dict:
    return {
        "id": push.pk,
        "cluster": push.cluster,
        "state": push.state,
        "size": push.size,
        "sha256": push.sha256,
        "created_at": push.created_at,
        "finished_at": push.finished_at,
        "report": push.report,
    }


def _staff_only(user) -> None:
    if not is_centre_staff(user):
        raise PermissionDenied("Only centre staff (call managers with the second factor).")


@api.post(
    "/usage",
    response={202: schemas.UsagePushOut, **ERRORS},
    tags=["usage"],
    auth=auth.push,
)
def usage_push(
    request: HttpRequest,
    file: File[UploadedFile],
    cluster: str = Form(..., pattern=CLUSTER_PATTERN),
):
    """Push a ``sacct -a -X -P`` file of ``cluster`` (multipart form: ``cluster``, ``file``).
    Its import runs as a job; read its report at ``/usage/{id}``. Centre staff with a token
    of the usage scope; 403 for anyone else."""
    user = _user(request)
    _staff_only(user)
    try:
        push = usage_push_create(
            by=user, cluster=cluster, content=file, name=file.name or "", token=request.auth
        )
    except ValidationError as error:
        raise HttpError(400, " ".join(error.messages)) from error
    push.refresh_from_db()
    return Status(202, _push(push))


@api.get(
    "/usage/{push_id}",
    response={200: schemas.UsagePushOut, **ERRORS},
    tags=["usage"],
    auth=auth.read,
)
def usage_push_status(request: HttpRequest, push_id: int = Path(..., ge=1, le=MAX_ID)):
    """A pushed file's state (queued, running, done, failed) and, once done, its report: the
    counts and every problem by line and field. For who pushed it and centre staff; 404 for
    anyone else."""
    return _push(get_push_for_user(user=_user(request), pk=push_id))


@api.get(
    "/slurm/{cluster}/plan",
    response={200: schemas.SlurmPlanOut, **ERRORS},
    tags=["usage"],
    auth=auth.read,
)
def slurm_plan(request: HttpRequest, cluster: str = Path(..., pattern=CLUSTER_PATTERN)):
    """The ``sacctmgr`` commands that bring ``cluster`` to the wanted state (accounts, user
    associations, GrpTRESMins, the low-priority QOS), as ``manage.py slurm_sync`` prints them
    without ``--current``; ``skipped`` lists members without a valid Slurm user name. Centre
    staff; 403 for anyone else."""
    _staff_only(_user(request))
    wanted = wanted_accounts(cluster=cluster)
    return {
        "cluster": cluster,
        "commands": plan(wanted, cluster=cluster),
        "skipped": [f"{a.account}: {email}" for a in wanted for email in a.skipped],
    }
