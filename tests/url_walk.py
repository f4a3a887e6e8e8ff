"""Every page of the project, from the URL conf: for tests that look through all of them for
something no one but its owner may read.

``app_urls`` fills each route's parameters from the ids a test gives it, so a new URL is walked
without anyone adding it here; routes whose parameter is a secret or a provider (the emailed
keys, ``invitations/<token>/``, OpenID Connect providers) cannot be guessed and are left out.
``every_route_with`` gives every parameter of every route one value, for hostile values.
``admin_urls`` lists every model the admin registers: its changelist, and the change and
history pages of each of its rows.
"""

import itertools
import re
from collections.abc import Iterable, Iterator, Mapping

from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse

PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
GROUP = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")


def _routes(patterns: Iterable, prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route


def app_urls(*, values: Mapping[str, Iterable[object]], skip_prefixes=("admin/",)) -> list[str]:
    """Every path of the URL conf but the admin's, once for each combination of ``values``
    (per parameter name, e.g. ``{"pk": [3, 7], "section": ["general"]}``). Routes with a
    regular expression (allauth's emailed keys) or a parameter without values are left out."""
    urls = []
    for route in _routes(get_resolver().url_patterns):
        if route.startswith(skip_prefixes) or "(?P<" in route or "^" in route:
            continue
        names = [match["name"] for match in PARAMETER.finditer(route)]
        if any(name not in values for name in names):
            continue
        for combination in itertools.product(*(list(values[name]) for name in names)):
            filled = iter(combination)
            urls.append("/" + PARAMETER.sub(lambda _match, values=filled: str(next(values)), route))
    # A route the project puts in front of a library's (allauth's authenticator activation)
    # is one path: walked once.
    return list(dict.fromkeys(urls))


def every_route_with(value: str) -> list[str]:
    """Every path of the URL conf, the admin's included, with each of its parameters (of any
    converter or regular expression) given ``value`` as it is: for values no route expects."""
    paths = set()
    for route in _routes(get_resolver().url_patterns):
        filled = GROUP.sub(value, PARAMETER.sub(value, route))
        paths.add("/" + filled.replace("^", "").replace("$", "").replace("\\Z", ""))
    return sorted(paths)


def admin_urls(*, rows_per_model: int = 50) -> list[str]:
    """The admin's index, and for every registered model its changelist and the change and
    history pages of (up to ``rows_per_model`` of) its rows."""
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls.append(reverse(f"{name}_changelist"))
        for pk in model._default_manager.values_list("pk", flat=True)[:rows_per_model]:
            urls.append(reverse(f"{name}_change", args=[pk]))
            urls.append(reverse(f"{name}_history", args=[pk]))
    return urls
