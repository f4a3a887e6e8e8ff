"""The site's URLs plus two tiny views behind the guards under test."""

from django.http import HttpResponse
from django.urls import path

from accounts.decorators import manager_required, profile_complete_required
from config.urls import urlpatterns as site_urlpatterns


@manager_required
def managed_view(request):
    return HttpResponse("managing")


@profile_complete_required
def proposal_start_view(request):
    return HttpResponse("starting a proposal")


urlpatterns = [
    path("test/managed/", managed_view, name="test_managed"),
    path("test/proposal-start/", proposal_start_view, name="test_proposal_start"),
    *site_urlpatterns,
]
