"""Token authentication and the rate limit of the API (PRODUCT §9).

``Authorization: Bearer allot_…``. An unknown, revoked or expired token gets 401; a token used
more than ``API_RATE_LIMIT`` times in a minute gets 429 with ``Retry-After``, counted in the
shared cache (Redis or the database table: every worker sees the same count). The token's owner
becomes ``request.user``; a manager's powers hold only while the owner has an authenticator
(``accounts.rules.is_call_manager``), as a session holds them only after the second factor.
"""

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer

from accounts.rules import has_mfa
from api.enums import TokenScope
from api.models import ApiToken
from api.rules import token_allows
from api.services import token_authenticate

WINDOW_SECONDS = 60


class RateLimited(HttpError):
    def __init__(self, wait: int) -> None:
        self.wait = wait
        super().__init__(429, f"Too many requests with this token; try again in {wait} s.")


def count_use(token: ApiToken, *, now: float | None = None) -> None:
    """One more use of ``token`` in this minute's window; RateLimited past the limit."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    key = f"api-rate:{token.pk}:{window}"
    cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
    try:
        uses = cache.incr(key)
    except ValueError:  # the entry expired between add and incr
        cache.set(key, 1, timeout=WINDOW_SECONDS * 2)
        uses = 1
    if uses > settings.API_RATE_LIMIT:
        raise RateLimited(wait=WINDOW_SECONDS * (window + 1) - int(now))


class TokenAuth(HttpBearer):
    def __init__(self, scope: str = TokenScope.READ) -> None:
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = token_authenticate(raw=token)
        if found is None:
            return None
        count_use(found)
        if not token_allows(found, self.scope):
            raise HttpError(403, "This token's scope does not allow pushing usage.")
        user = found.user
        user.second_factor_passed = has_mfa(user)
        request.user = user
        return found


read = TokenAuth(TokenScope.READ)
push = TokenAuth(TokenScope.USAGE)
