"""What the features above submission tell it, registered once at start-up.

Submission sits below review and decisions (``lint-imports`` checks the layers), yet who may
read a submitted proposal and what its pages link to depend on peer review: the committee
and the assigned reviewers read it unless in conflict (PRODUCT §1.1), and the sidebar links
to the reviews, the right of reply and the reader's own review. Review registers both in
``ProposalsConfig.ready``; ``tests/proposals/test_hooks.py`` checks they are registered.
With nothing registered, only the team and call managers read a proposal: the safe side.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from accounts.models import User
from proposals.submission.models import Proposal

# Whether ``user``, who is neither on the team nor a call manager, reads a proposal that is
# in competition (submitted, not back in draft).
ProposalReader = Callable[[User, Proposal], bool]
# What a proposal page adds for its reader: ``(user, proposal, now, on_team) -> context``.
PageContext = Callable[[User, Proposal, datetime, bool], dict[str, Any]]

proposal_readers: list[ProposalReader] = []
page_contexts: list[PageContext] = []


def proposal_reader_register(reader: ProposalReader) -> None:
    if reader not in proposal_readers:
        proposal_readers.append(reader)


def page_context_register(provider: PageContext) -> None:
    if provider not in page_contexts:
        page_contexts.append(provider)
