from django.urls import reverse

from proposals.calls.selectors import committee_calls


def committee_menu(request) -> dict:
    """The menu's entry to the ranking for committee members: the call's ranking when they
    sit on one committee, their list of committees otherwise. One query, only when the menu
    asks (a signed-in person's page)."""
    user = getattr(request, "user", None)

    def ranking_url() -> str:
        if user is None or not user.is_authenticated:
            return ""
        calls = committee_calls(user=user)
        if len(calls) == 1:
            return reverse("call_ranking", args=[calls[0].pk])
        return reverse("my_reviews") + "#committees-heading" if calls else ""

    return {"committee_ranking_url": ranking_url}
