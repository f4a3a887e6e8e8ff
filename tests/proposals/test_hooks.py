"""Where a lower layer asks an upper one, the upper one has registered its answer at start-up
(proposals.apps, allocations.apps). Without these, reviewers and committees would lose their
proposals, an overdue final report would stop nobody, and no allocation could be continued."""

from allocations.rules import overdue_final_reports_message
from allocations.selectors.continuation import continuable_allocations, continuation_page_context
from allocations.selectors.waiting import waiting_in_allocations
from proposals.calls.hooks import continuable_sources, start_checks
from proposals.home.hooks import waiting_sources
from proposals.review.rules import reads_proposal
from proposals.review.views.page_links import page_links
from proposals.submission.hooks import page_contexts, proposal_readers


def test_review_tells_submission_who_reads_a_proposal_and_what_its_pages_link_to():
    assert proposal_readers == [reads_proposal]
    # Review's links, then the earlier allocation of a continuation (allocations).
    assert sorted(page_contexts, key=lambda f: f.__name__) == [
        continuation_page_context,
        page_links,
    ]


def test_allocations_tells_calls_who_may_not_start_a_proposal():
    assert start_checks == [overdue_final_reports_message]


def test_the_api_adds_the_tokens_to_the_profile():
    from accounts.hooks import profile_sections
    from api.views import tokens_section

    assert profile_sections == [tokens_section]


def test_allocations_tells_the_home_page_what_waits_in_it():
    assert waiting_sources == [waiting_in_allocations]


def test_allocations_tells_calls_what_a_pi_may_continue():
    assert continuable_sources == [continuable_allocations]


def test_review_hears_when_what_conflicts_are_detected_from_changes():
    from accounts.hooks import identity_listeners
    from proposals.calls.hooks import conflict_sources_listeners
    from proposals.review.services.conflict_detection import (
        conflicts_refresh_for,
        conflicts_refresh_for_person,
    )

    assert conflict_sources_listeners == [conflicts_refresh_for]
    assert identity_listeners == [conflicts_refresh_for_person]


def test_allocations_gives_the_statistics_its_usage():
    from allocations.selectors.statistics import usage_statistics
    from proposals.decisions.hooks import usage_sources

    assert usage_sources == [usage_statistics]
