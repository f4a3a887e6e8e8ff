"""The periodic jobs of proposals (PRODUCT §7), on the beat schedule (CELERY_BEAT_SCHEDULE).

Each returns the number of emails it queued; running one twice queues nothing the second time.
"""

from celery import shared_task

from proposals.decisions.services.book import book_build
from proposals.review.services import reminders
from proposals.submission.services.lifecycle import proposals_begin_review


@shared_task(name="proposals.deadline_reminders")
def deadline_reminders() -> int:
    """Deadline in 7 days and in 1 day, to the team of each draft; hourly."""
    return reminders.deadline_reminders()


@shared_task(name="proposals.review_reminders")
def review_reminders() -> int:
    """Review due in 3 days, and overdue, to the reviewer; hourly."""
    return reminders.review_reminders()


@shared_task(name="proposals.reply_closing_reminders")
def reply_closing_reminders() -> int:
    """Right of reply closing in 2 days, to each PI who has not replied; hourly."""
    return reminders.reply_closing_reminders()


@shared_task(name="proposals.call_status_changes")
def call_status_changes() -> int:
    """A call has opened: announced once to the people who asked; every five minutes."""
    return reminders.call_status_changes()


@shared_task(name="proposals.begin_review")
def begin_review() -> int:
    """Submitted proposals of calls past their deadline go under review; every five minutes.
    Returns how many moved (none the second time)."""
    return proposals_begin_review()


@shared_task(name="proposals.build_book")
def build_book(book_id: int) -> int:
    """Build one reader's panel book; a book built already is left alone. Returns its pages."""
    book = book_build(book_id=book_id)
    return book.pages if book is not None else 0
