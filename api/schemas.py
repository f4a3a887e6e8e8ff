"""The API's JSON shapes (OpenAPI components) and how each is read from a selector's rows.

Amounts are decimal strings (``"1000.00"``): exact, as the ledger keeps them. Instants are ISO
8601 with their offset (UTC); dates are ISO dates in the call's time zone.
"""

from datetime import date, datetime
from decimal import Decimal

from ninja import Schema


class Error(Schema):
    detail: str


class ValidationProblem(Schema):
    detail: list[dict]


# --- Calls -------------------------------------------------------------------------------------


class CallResourceOut(Schema):
    resource: str
    code: str
    unit: str
    budget: Decimal
    min_request: Decimal
    max_request: Decimal


class CallOut(Schema):
    id: int
    code: str
    name: str
    status: str
    time_zone: str
    opens_at: datetime
    closes_at: datetime
    review_due_at: datetime
    decisions_due_at: datetime
    period_start: date
    period_end: date
    resources: list[CallResourceOut]


class CallList(Schema):
    current: list[CallOut]
    past: list[CallOut]


# --- Proposals ---------------------------------------------------------------------------------


class VersionOut(Schema):
    number: int
    submitted_at: datetime


class ProposalRowOut(Schema):
    id: int
    call_id: int
    call_code: str
    reference: str | None
    acronym: str
    title: str
    status: str
    is_pi: bool
    missing: list[str]
    versions: list[VersionOut]


class PersonOut(Schema):
    name: str
    affiliation: str


class TeamMemberOut(PersonOut):
    role: str  # "pi" or "co-investigator"
    status: str


class RequestOut(Schema):
    resource: str
    unit: str
    amount: Decimal
    justification: str


class AttachmentOut(Schema):
    id: int
    kind: str
    name: str
    size: int
    pages: int
    uploaded_at: datetime
    current: bool


class ProposalOut(Schema):
    id: int
    call_id: int
    call_code: str
    reference: str | None
    acronym: str
    title: str
    abstract: str
    field: str
    keywords: list[str]
    status: str
    submitted_at: datetime | None
    team: list[TeamMemberOut]
    requests: list[RequestOut]
    attachments: list[AttachmentOut]
    versions: list[VersionOut]
    excluded_reviewers: str | None  # call managers only (PRODUCT §1.1)


# --- Reviews and the ranking ------------------------------------------------------------------


class ReviewRowOut(Schema):
    id: int
    kind: str
    state: str
    due_at: datetime
    overdue: bool
    submitted_at: datetime | None
    proposal_id: int
    reference: str | None
    acronym: str
    title: str
    call_id: int
    call_code: str


class MyReviewsOut(Schema):
    invitations: list[ReviewRowOut]
    reviews: list[ReviewRowOut]


class RankingCellOut(Schema):
    resource: str
    requested: Decimal | None
    recommended: Decimal | None
    cumulative: Decimal
    within_budget: bool


class RankingRowOut(Schema):
    rank: int
    proposal_id: int
    reference: str | None
    acronym: str
    title: str
    pi_name: str
    field: str
    submitted_reviews: int
    assigned_reviews: int
    score: Decimal | None
    normalised: Decimal | None
    spread: Decimal | None
    spread_flagged: bool
    technical_verdict: str
    fundable: bool
    resources: list[RankingCellOut]


class RankingOut(Schema):
    call_id: int
    threshold: Decimal
    hidden: int
    rows: list[RankingRowOut]


# --- Decisions and allocations ----------------------------------------------------------------


class AmountOut(Schema):
    resource: str
    unit: str
    amount: Decimal


class DecisionRowOut(Schema):
    rank: int
    proposal_id: int
    reference: str | None
    acronym: str
    outcome: str | None
    response: str | None
    published_at: datetime | None
    amounts: list[AmountOut]


class BudgetOut(Schema):
    resource: str
    unit: str
    budget: Decimal
    awarded: Decimal


class DecisionsOut(Schema):
    call_id: int
    published_at: datetime | None
    budgets: list[BudgetOut]
    rows: list[DecisionRowOut]


class QuotaOut(Schema):
    month: date
    quota: Decimal
    used: Decimal
    left: Decimal
    can_borrow: Decimal
    state: str


class BalanceOut(Schema):
    resource: str
    code: str
    unit: str
    awarded: Decimal
    used: Decimal
    forfeited: Decimal
    left: Decimal
    policy: str
    this_month: QuotaOut | None


class AllocationOut(Schema):
    id: int
    account: str
    call_id: int
    call_code: str
    reference: str | None
    pi: str
    start: date
    end: date
    period: str
    balances: list[BalanceOut]


class LedgerEntryOut(Schema):
    id: int
    resource: str
    kind: str
    amount: Decimal
    occurred_at: datetime
    reason: str
    member: str | None


# --- Usage and Slurm --------------------------------------------------------------------------


class UsagePushOut(Schema):
    id: int
    cluster: str
    state: str
    size: int
    sha256: str
    created_at: datetime
    finished_at: datetime | None
    report: dict


class SlurmPlanOut(Schema):
    cluster: str
    commands: list[str]
    skipped: list[str]
