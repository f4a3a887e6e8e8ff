"""The demo's proposals, their teams, requests, descriptions and reviews: the part of
``seed_demo`` that writes them (a mixin of its command)."""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile

from accounts.models import User
from demo.data import (
    COI_EMAIL,
    DESCRIPTION_PAGES,
    REVIEWS,
    DemoProposal,
    DemoReview,
    demo_score,
    description_pdf,
)
from proposals.calls.models import Call, CallCriterion
from proposals.review.enums import ConflictStatus, ReviewKind, ReviewState
from proposals.review.models import Conflict, Review, ReviewScore, TechnicalRecommendation
from proposals.review.selectors.assignment import REVIEWABLE
from proposals.submission.enums import AttachmentKind, ProposalStatus, TeamStatus
from proposals.submission.models import (
    Attachment,
    Proposal,
    ProposalVersion,
    ResourceRequest,
    ScalingPoint,
    TeamMember,
)
from proposals.submission.services.lifecycle import proposal_snapshot


@dataclass
class Tally:
    """What a run created, by kind (the command's report)."""

    created: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, created: bool = True, count: int = 1) -> None:
        if created and count:
            self.created[kind] = self.created.get(kind, 0) + count

    @property
    def total(self) -> int:
        return sum(self.created.values())


class ProposalSeeding:
    """``seed_demo``'s proposals (each idempotent: found again on a second run)."""

    def _proposal(
        self, demo: DemoProposal, call: Call, users: dict[str, User], now: datetime, tally: Tally
    ) -> None:
        """One demo proposal with everything its state implies, unless its acronym is taken.

        Written straight to the tables (the lifecycle services would send receipts): a
        reference from the call's counter, version 1 frozen by ``proposal_snapshot``, and a
        description PDF for every proposal that was submitted.
        """
        if Proposal.objects.filter(call=call, acronym__iexact=demo.acronym).exists():
            return
        pi = users[demo.pi]
        submitted = demo.status != ProposalStatus.DRAFT
        if demo.call == "open":
            submitted_at = now - timedelta(days=6 if demo.status == ProposalStatus.WITHDRAWN else 2)
        else:
            submitted_at = call.closes_at - timedelta(days=2)
        fields = self._proposal_fields(demo, call, pi, submitted_at if submitted else None, now)
        proposal = Proposal.objects.create(call=call, pi=pi, status=demo.status, **fields)
        tally.add("proposals")
        self._requests(proposal, call, demo)
        if demo.complete:
            for position, (gpus, seconds) in enumerate([(64, "1.2000"), (256, "0.3300")]):
                ScalingPoint.objects.create(
                    proposal=proposal,
                    gpus=gpus,
                    seconds_per_step=Decimal(seconds),
                    position=position,
                )
        if demo.with_coi:
            joined = submitted_at - timedelta(days=3) if submitted else now
            self._coi(proposal, users[COI_EMAIL], pi, joined)
            tally.add("team members")
        if submitted:
            self._description(proposal, pi, uploaded_at=submitted_at - timedelta(days=1))
            tally.add("attachments")
            proposal.refresh_from_db()
            ProposalVersion.objects.create(
                proposal=proposal,
                number=1,
                snapshot=proposal_snapshot(proposal),
                submitted_at=submitted_at,
                submitted_by=pi,
            )
            tally.add("versions")

    def _proposal_fields(
        self,
        demo: DemoProposal,
        call: Call,
        pi: User,
        submitted_at: datetime | None,
        now: datetime,
    ) -> dict[str, Any]:
        """The proposal's own fields; a submitted one takes the call's next reference."""
        fields: dict[str, Any] = {
            "title": demo.title,
            "acronym": demo.acronym,
            "abstract": (
                f"{demo.title}: we train and evaluate models on the JUPITER and JUWELS "
                "Boosters and publish the models, the code and the evaluation data openly."
            ),
            "field": demo.field,
            "keywords": list(demo.keywords),
            "pi_affiliation": pi.affiliation,
            "pi_country": pi.country,
            "excluded_reviewers": demo.excluded_reviewers,
            "updated_by": pi,
        }
        if demo.complete:
            fields.update(
                previous_allocations="JUWELS Booster 2025: 80,000 GPU-hours, two papers.",
                codes="PyTorch 2.5, Megatron-LM 0.9, NCCL 2.21",
                job_size="256 GPUs (64 nodes)",
                wall_time="24 hours",
                memory="80 GB per GPU",
                storage="150 TB on the project file system; checkpoints archived to tape.",
            )
        if submitted_at is not None:
            locked = Call.objects.select_for_update().get(pk=call.pk)
            number = locked.last_reference_number + 1
            Call.objects.filter(pk=call.pk).update(last_reference_number=number)
            fields.update(
                reference_number=number,
                reference=f"{call.reference_prefix}-{number:04d}",
                submitted_at=submitted_at,
            )
        if demo.status == ProposalStatus.WITHDRAWN:
            fields["withdrawn_at"] = now - timedelta(days=1)
        return fields

    def _requests(self, proposal: Proposal, call: Call, demo: DemoProposal) -> None:
        offers = {offer.resource.code: offer for offer in call.call_resources.all()}
        for code, amount in demo.requests.items():
            offer = offers.get(code)
            if offer is None:
                continue
            ResourceRequest.objects.create(
                proposal=proposal,
                call_resource=offer,
                amount=min(max(Decimal(amount), offer.min_request), offer.max_request),
                justification="Measured on a 64-GPU test allocation: 2,000 GPU-hours per run.",
            )

    def _coi(self, proposal: Proposal, coi: User, pi: User, joined: datetime) -> None:
        """The co-investigator, who accepted at ``joined``, a day after being invited."""
        member = TeamMember.objects.create(
            proposal=proposal,
            email=coi.email,
            user=coi,
            status=TeamStatus.ACCEPTED,
            invited_by=pi,
            responded_at=joined,
        )
        TeamMember.objects.filter(pk=member.pk).update(
            invited_at=member.responded_at - timedelta(days=1)
        )

    def _reviews(
        self, call: Call, users: dict[str, User], by: User, now: datetime, tally: Tally
    ) -> None:
        """The reviews of the closed call's demo proposals (those still in review), unless the
        pair already has a review of that kind, in whatever state (a demo user may have
        answered, saved or declared a conflict since), or a conflict that is not dismissed."""
        proposals = {
            p.acronym.casefold(): p
            for p in Proposal.objects.filter(call=call, status__in=REVIEWABLE)
        }
        criteria = list(CallCriterion.objects.filter(call=call).order_by("position", "pk"))
        assigned = call.closes_at + timedelta(days=2)
        for demo in REVIEWS:
            proposal = proposals.get(demo.acronym.casefold())
            reviewer = users[demo.reviewer]
            if proposal is None:
                continue
            pair = {"proposal": proposal, "reviewer": reviewer}
            if Review.objects.filter(**pair, kind=demo.kind).exists():
                continue
            if Conflict.objects.filter(**pair).exclude(status=ConflictStatus.DISMISSED).exists():
                continue
            self._review(demo, proposal, reviewer, criteria, by, assigned, now)
            tally.add("reviews")

    def _review(
        self,
        demo: DemoReview,
        proposal: Proposal,
        reviewer: User,
        criteria: list[CallCriterion],
        by: User,
        assigned: datetime,
        now: datetime,
    ) -> None:
        """One review as the reviewing services would have left it: answered a day after it
        was assigned, saved (and submitted) on ``demo.day``. Times never pass ``now``."""

        def day(n: int) -> datetime:
            return min(assigned + timedelta(days=n), now)

        fields: dict[str, Any] = {}
        if demo.state == ReviewState.DECLINED:
            fields.update(
                decline_reason=demo.decline_reason, responded_at=day(demo.day), lock_version=2
            )
        elif demo.state in {ReviewState.ACCEPTED, ReviewState.SUBMITTED}:
            answered = day(demo.assigned_day + 1)
            fields.update(
                responded_at=answered,
                no_conflict_declared_at=answered,
                comment_to_applicant=demo.to_applicant,
                confidential_comment=demo.confidential,
                recommendation=demo.recommendation,
                verdict=demo.verdict,
                saved_at=day(demo.day),
                lock_version=3,  # accepted, then saved once (submitting saves too)
            )
            if demo.state == ReviewState.SUBMITTED:
                fields["submitted_at"] = day(demo.day)
        review = Review.objects.create(
            proposal=proposal,
            reviewer=reviewer,
            kind=demo.kind,
            state=demo.state,
            due_at=proposal.call.review_due_at,
            assigned_by=by,
            **fields,
        )
        Review.objects.filter(pk=review.pk).update(assigned_at=day(demo.assigned_day))
        if demo.kind == ReviewKind.SCIENTIFIC and demo.state != ReviewState.INVITED:
            submitted = demo.state == ReviewState.SUBMITTED
            for position, criterion in enumerate(criteria):
                value = demo_score(demo.scores, position, criterion, complete=submitted)
                if value is not None:
                    ReviewScore.objects.create(review=review, criterion=criterion, value=value)
        if demo.kind == ReviewKind.TECHNICAL and demo.state == ReviewState.SUBMITTED:
            for request in proposal.requests.select_related("call_resource__resource"):
                amount = demo.recommended.get(request.call_resource.resource.code)
                TechnicalRecommendation.objects.create(
                    review=review,
                    call_resource=request.call_resource,
                    amount=request.amount if amount is None else min(amount, request.amount),
                )

    def _description(self, proposal: Proposal, by: User, *, uploaded_at: datetime) -> None:
        data = description_pdf(f"{proposal.acronym}: {proposal.title}")
        attachment = Attachment(
            proposal=proposal,
            kind=AttachmentKind.DESCRIPTION,
            original_name=f"{proposal.acronym}-description.pdf",
            size=len(data),
            pages=DESCRIPTION_PAGES,
            sha256=hashlib.sha256(data).hexdigest(),
            uploaded_by=by,
        )
        attachment.file.save("description.pdf", ContentFile(data), save=False)
        attachment.save()
        Attachment.objects.filter(pk=attachment.pk).update(uploaded_at=uploaded_at)
