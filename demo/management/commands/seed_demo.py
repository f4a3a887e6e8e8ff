"""Demo data for trying Allot on a laptop: resources, four calls, one account per role, and
proposals in every state.

Calls: last year's (decided; its MOE-SCALE award has an allocation with imported usage),
this half-year's (open), the next (upcoming) and, unless some call
is already closed and waiting for its decisions, a "JUWELS AI" call that closed three weeks ago
(in review). Proposals: in the open call a draft with an accepted co-investigator, a submitted
one and a withdrawn one; in the decided call one awarded, one partially awarded, one
waitlisted and one rejected; in the closed call six under review, asking together for more
than its budget. Every proposal that was submitted has its reference, version 1 and a project
description PDF (made with pypdf, stored through Django's storage).

Peer review in the closed call: four reviewers in its pool (one of them also its technical
reviewer), the committee member on its committee, scientific reviews submitted with scores,
one accepted and saved as a draft, one invited and one declined, a technical review, and the
conflicts of interest the detection finds (one, for a manager to decide): enough for the
ranking, the reviews of a proposal, "My reviews" and the conflicts page to show something.

Safe to run again: everything is looked up by its natural key (resource code, call code,
email, a proposal's acronym in its call, a review's proposal, reviewer and kind) and only
what is missing is created. Rows are written directly: no email is sent.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from allauth.account.models import EmailAddress
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from allocations.enums import LoginSource
from allocations.models import Allocation, ClusterLogin
from allocations.services.awards import allocation_create_for_award
from allocations.services.usage_import import usage_import
from demo.calls import (
    ACCOUNTS,
    BUDGETS,
    CLOSED_CALL_POOL,
    CRITERIA,
    GUIDELINES,
    JUWELS_AI_BUDGETS,
    RESOURCES,
    ZONE,
    call_names,
    closed_call_dates,
    juwels_ai_names,
    open_call_dates,
    shifted,
)
from demo.data import (
    PROPOSALS,
)
from demo.seeding import (
    ProposalSeeding,  # noqa: E402
    Tally,
)
from demo.usage import sacct_lines
from proposals.calls.enums import CallRoleKind
from proposals.calls.models import Call, CallRole
from proposals.calls.services import call_create
from proposals.decisions.enums import DecisionOutcome
from proposals.decisions.models import AwardLine, Decision
from proposals.review.services.conflict_detection import conflicts_detect
from proposals.submission.models import (
    Proposal,
)

PASSWORD = "allot-demo-jupiter"  # noqa: S105 - a documented demo password, printed on purpose


class Command(ProposalSeeding, BaseCommand):
    help = (
        "Create demo resources, calls, one account per role and proposals in every state "
        "(safe to run twice)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        tally = Tally()
        now = timezone.now()
        today = timezone.localdate(now, timezone=ZONE)
        with transaction.atomic():
            resources = self._resources(tally)
            users = self._accounts(tally)
            manager = users["manager@demo.allot.example"]
            reviewer = users["reviewer@demo.allot.example"]
            committee = users["committee@demo.allot.example"]
            open_dates = open_call_dates(today)
            last_year = self._call(shifted(open_dates, -12), resources, manager, tally)
            current = self._call(open_dates, resources, manager, tally)
            self._call(shifted(open_dates, 6), resources, manager, tally)
            if last_year.decisions_published_at is None:
                Call.objects.filter(pk=last_year.pk).update(
                    decisions_published_at=last_year.decisions_due_at
                )
                tally.add("published decisions")
            closed = self._closed_call(today, now, resources, manager, tally)
            for call in (current, closed):
                self._role(call, CallRoleKind.REVIEWER, reviewer, 5, tally)
                self._role(call, CallRoleKind.COMMITTEE, committee, None, tally)
            for email, role, max_load in CLOSED_CALL_POOL:
                self._role(closed, role, users[email], max_load, tally)
            calls = {"open": current, "decided": last_year, "closed": closed}
            for demo in PROPOSALS:
                self._proposal(demo, calls[demo.call], users, now, tally)
            # Detection as a manager would run it (idempotent): the exclusion in COSMO-EMU.
            tally.add("conflicts", count=conflicts_detect(call=closed))
            self._reviews(closed, users, manager, now, tally)
            self._usage(last_year, manager, now, tally)
        self._report(tally, closed)

    def _usage(self, call: Call, manager: User, now: datetime, tally: Tally) -> None:
        """The awarded proposal of the decided call gets its decision, its allocation and a
        generated sacct file imported through ``usage_import``: a used, partly forfeited
        month and a low-priority one on the chart (``demo.usage``). Idempotent: the same
        content is not imported twice; another day's content changes only what changed."""
        proposal = Proposal.objects.filter(call=call, acronym="MOE-SCALE").first()
        if proposal is None or not call.period_start <= now.date() <= call.period_end:
            return
        decision, created = Decision.objects.get_or_create(
            proposal=proposal,
            defaults={
                "outcome": DecisionOutcome.AWARDED,
                "decided_by": manager,
                "published_at": call.decisions_published_at or now,
            },
        )
        if created:
            for request in proposal.requests.select_related("call_resource"):
                AwardLine.objects.create(
                    decision=decision, call_resource=request.call_resource, amount=request.amount
                )
            tally.add("decisions")
        if not hasattr(proposal, "allocation"):
            allocation_create_for_award(decision=decision, by=manager)
            tally.add("allocations")
        allocation = Allocation.objects.get(proposal=proposal)
        booster = allocation.resources.select_related("resource").get(
            resource__code="jupiter-booster"
        )
        months = (allocation.end.year - allocation.start.year) * 12 + (
            allocation.end.month - allocation.start.month + 1
        )
        cluster = booster.resource.slurm_cluster
        # The PI's login on the cluster, as centre staff set it on the allocation's logins page
        # (the import finds members by it, never by their email).
        login, _ = ClusterLogin.objects.get_or_create(
            user=proposal.pi,
            cluster=cluster,
            defaults={"login": "pinvest", "source": LoginSource.STAFF, "set_by": manager},
        )
        lines = sacct_lines(
            account=allocation.account,
            user=login.login,
            cluster=cluster,
            partition=booster.resource.slurm_partition,
            start=allocation.start,
            monthly_share=booster.awarded / months,
            now=timezone.localtime(now, timezone.get_default_timezone()).replace(tzinfo=None),
        )
        report = usage_import(lines=lines, cluster=cluster, source="seed_demo")
        tally.add("usage records", count=report.charged + report.corrected)

    def _resources(self, tally: Tally) -> dict[str, Any]:
        resource_model = apps.get_model("allocations", "Resource")
        found = {}
        for data in RESOURCES:
            defaults = {key: value for key, value in data.items() if key != "code"}
            resource, created = resource_model.objects.get_or_create(
                code=data["code"], defaults=defaults
            )
            tally.add("resources", created)
            found[resource.code] = resource
        return found

    def _accounts(self, tally: Tally) -> dict[str, User]:
        group, created = Group.objects.get_or_create(name=settings.CALL_MANAGERS_GROUP)
        tally.add("groups", created)
        users = {}
        for data in ACCOUNTS:
            profile = {
                key: value
                for key, value in data.items()
                if key not in {"label", "email", "manager", "superuser"}
            }
            user = User.objects.filter(email__iexact=data["email"]).first()
            if user is None:
                create = (
                    User.objects.create_superuser
                    if data.get("superuser")
                    else User.objects.create_user
                )
                user = create(email=data["email"], password=PASSWORD, **profile)
                tally.add("accounts")
            _, created = EmailAddress.objects.get_or_create(
                user=user, email=data["email"], defaults={"verified": True, "primary": True}
            )
            tally.add("email addresses", created)
            if data.get("manager") and not user.groups.filter(pk=group.pk).exists():
                user.groups.add(group)
                tally.add("group memberships")
            users[data["email"]] = user
        return users

    def _call(
        self,
        dates: dict[str, Any],
        resources: dict[str, Any],
        by: User,
        tally: Tally,
        *,
        names: dict[str, str] | None = None,
        budgets: dict[str, tuple[Decimal, Decimal, Decimal]] = BUDGETS,
        description: str = (
            "Compute time on the JUPITER Booster for large-scale AI and simulation "
            "projects, with CPU time on JUWELS and project storage alongside."
        ),
    ) -> Call:
        names = names or call_names(dates["period_start"])
        existing = Call.objects.filter(code__iexact=names["code"]).first()
        if existing is not None:
            return existing
        data = {
            **names,
            **dates,
            "description": description,
            "guidelines": GUIDELINES,
            "time_zone": "Europe/Berlin",
            "right_of_reply": dates.get("reply_opens_at") is not None,
        }
        rows = [
            {"resource": resources[code], "budget": b, "min_request": lo, "max_request": hi}
            for code, (b, lo, hi) in budgets.items()
        ]
        call = call_create(by=by, data=data, budgets=rows, criteria=CRITERIA)
        tally.add("calls")
        return call

    def _closed_call(
        self, today: date, now: datetime, resources: dict[str, Any], by: User, tally: Tally
    ) -> Call:
        """A call closed and waiting for its decisions: an existing one, else JUWELS AI."""
        waiting = (
            Call.objects.filter(
                archived_at__isnull=True, decisions_published_at__isnull=True, closes_at__lte=now
            )
            .order_by("-closes_at")
            .first()
        )
        if waiting is not None:
            return waiting
        dates = closed_call_dates(today)
        return self._call(
            dates,
            resources,
            by,
            tally,
            names=juwels_ai_names(dates["period_start"]),
            budgets=JUWELS_AI_BUDGETS,
            description=(
                "GPU time on the JUWELS Booster for training and evaluating AI models, with "
                "project storage for data sets and checkpoints."
            ),
        )

    def _role(
        self, call: Call, role: CallRoleKind, user: User, max_load: int | None, tally: Tally
    ) -> None:
        # Straight to the table, with the user linked: the demo sends no "you have a role" email.
        _, created = CallRole.objects.get_or_create(
            call=call,
            role=role,
            email=user.email,
            defaults={"user": user, "max_load": max_load},
        )
        tally.add("call roles", created)

    def _report(self, tally: Tally, closed: Call) -> None:
        if tally.total:
            summary = ", ".join(f"{kind}: {count}" for kind, count in tally.created.items())
            self.stdout.write(self.style.SUCCESS(f"Demo data created: {summary}."))
        else:
            self.stdout.write("Demo data already present: nothing changed.")
        self.stdout.write("")
        width = max(len(data["label"]) for data in ACCOUNTS)
        self.stdout.write(f"{'Role'.ljust(width)}  Email")
        self.stdout.write(f"{'-' * width}  {'-' * 30}")
        for data in ACCOUNTS:
            self.stdout.write(f"{data['label'].ljust(width)}  {data['email']}")
        self.stdout.write("")
        self.stdout.write(f"Password for every account: {PASSWORD}")
        self.stdout.write(
            f"Peer review at work in {closed.code}: its ranking with the budget line (committee),\n"
            "its reviews, assignment and a conflict to decide (manager), My reviews (reviewer)."
        )
        self.stdout.write(
            "The call manager and the superuser are asked to set up two-factor authentication "
            "(an authenticator app) before they can manage calls."
        )
        self.stdout.write(f"Open {settings.SITE_URL}/ and sign in.")
