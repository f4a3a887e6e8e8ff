import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()


def settle() -> None:
    """Load every view now (not in the first request) and move what start-up made out of the
    garbage collector's sight: those objects live as long as the process, and without this
    each full collection walks all of them again (about 200,000; a third of a large page's
    time was such collections; ``benchmarks/README.md``)."""
    get_resolver().url_patterns  # noqa: B018 (imports every view module)
    gc.freeze()


settle()
