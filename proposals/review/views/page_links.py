"""What a proposal page links to for its reader from peer review: the reviews, the right of
reply and the reader's own review. Registered with ``proposals.submission.hooks`` in
``proposals.apps``, so the submission pages show these links without importing review."""

from datetime import datetime
from typing import Any

from accounts.models import User
from proposals.review.rules import can_read_reviews, can_see_reply
from proposals.review.selectors.reviewing import own_review
from proposals.submission.models import Proposal


def page_links(user: User, proposal: Proposal, now: datetime, on_team: bool) -> dict[str, Any]:
    """Someone on the team gets the team's pages, never a reviewer's: no query for them."""
    return {
        "can_read_reviews": can_read_reviews(user, proposal, now),
        "can_see_reply": can_see_reply(user, proposal, now),
        "own_review": None if on_team else own_review(user=user, proposal=proposal),
    }
