"""Where a lower layer asks an upper one, the upper one has registered its answer at start-up
(proposals.apps, allocations.apps). Without these, reviewers and committees would lose their
proposals and an overdue final report would stop nobody."""

from allocations.rules import overdue_final_reports_message
from proposals.calls.hooks import start_checks
from proposals.review.rules import reads_proposal
from proposals.review.views.page_links import page_links
from proposals.submission.hooks import page_contexts, proposal_readers


def test_review_tells_submission_who_reads_a_proposal_and_what_its_pages_link_to():
    assert proposal_readers == [reads_proposal]
    assert page_contexts == [page_links]


def test_allocations_tells_calls_who_may_not_start_a_proposal():
    assert start_checks == [overdue_final_reports_message]


def test_review_hears_when_what_conflicts_are_detected_from_changes():
    from accounts.hooks import identity_listeners
    from proposals.calls.hooks import conflict_sources_listeners
    from proposals.review.services.conflicts import (
        conflicts_refresh_for,
        conflicts_refresh_for_person,
    )

    assert conflict_sources_listeners == [conflicts_refresh_for]
    assert identity_listeners == [conflicts_refresh_for_person]
