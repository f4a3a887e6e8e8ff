"""A memo of permission predicates for one read-only request.

A page asks the same question several times (the proposal page asks "is this person on the
team?" for the page, its menu, its sections and its links): each asking is a query. During a
GET or HEAD request, which changes nothing, the answer cannot change, so ``remembered``
predicates keep theirs for the rest of the request. A POST (which may change the answer
halfway) and everything outside a request (services, tasks, tests calling a rule) ask the
database every time.
"""

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_memo: ContextVar[dict | None] = ContextVar("allot_request_memo", default=None)
SAFE_METHODS = ("GET", "HEAD")


@contextmanager
def read_only_request(method: str) -> Iterator[None]:
    token = _memo.set({} if method in SAFE_METHODS else None)
    try:
        yield
    finally:
        _memo.reset(token)


def remembered[Predicate: Callable[..., object]](predicate: Predicate) -> Predicate:
    """``predicate(user, obj)`` answered once per (user, obj) in a read-only request."""
    name = f"{predicate.__module__}.{predicate.__qualname__}"

    @functools.wraps(predicate)
    def asked(user: Any, obj: Any) -> Any:
        memo = _memo.get()
        if memo is None or getattr(obj, "pk", None) is None:
            return predicate(user, obj)
        key = (name, getattr(user, "pk", None), type(obj), obj.pk)
        if key not in memo:
            memo[key] = predicate(user, obj)
        return memo[key]

    return asked  # type: ignore[return-value]


class RequestMemoMiddleware:
    """Opens the memo for GET and HEAD requests (see the module)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with read_only_request(request.method):
            return self.get_response(request)
