"""A researcher's first visit: find a call, sign up, confirm the address, fill in the profile,
and open the call. Every screen is saved as a screenshot for people to review."""

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from accounts.models import User
from tests.browser.conftest import PHONE, screenshot
from tests.conftest import PASSWORD
from tests.factories import make_call

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "nina.newcomer@uni.example"


def _confirmation_link() -> str:
    bodies = [message.body for message in mail.outbox if message.to == [EMAIL]]
    assert len(bodies) == 1, bodies
    return re.search(r"https?://\S+/accounts/confirm-email/\S+", bodies[0]).group(0)


def test_sign_up_complete_profile_and_open_a_call(page: Page, live_server):
    call = make_call("JUPITER 2027-1")
    page.set_default_timeout(10_000)

    page.goto(f"{live_server.url}/calls/")
    expect(page.get_by_role("heading", name="Calls for proposals")).to_be_visible()
    expect(page.get_by_role("link", name="JUPITER 2027-1")).to_be_visible()
    screenshot(page, "01-call-list")

    page.get_by_role("link", name="Sign up").click()
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    screenshot(page, "02-signup")
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    screenshot(page, "03-check-your-email")
    assert not User.objects.get(email=EMAIL).emailaddress_set.get().verified

    page.goto(_confirmation_link().replace("http://testserver", live_server.url))
    expect(page.get_by_role("heading", name="Confirm your email address")).to_be_visible()
    screenshot(page, "04-confirm-email")
    page.get_by_role("button", name="Confirm").click()

    # Signed in, and sent to the profile because it is empty.
    expect(page.get_by_role("heading", name="Your profile")).to_be_visible()
    banner = page.locator(".profile-missing")
    expect(banner).to_contain_text("Your profile is not complete yet.")
    expect(banner).to_contain_text("At least one field of expertise")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    screenshot(page, "05-profile-incomplete")

    page.get_by_label("Full name").fill("Nina Newcomer")
    page.get_by_label("Affiliation").fill("Forschungszentrum Jülich")
    page.get_by_label("Country").select_option("DE")
    page.get_by_label("ORCID iD").fill("0000-0002-1825-0098")
    page.get_by_label("PE6 Computer Science and Informatics").check()
    # The checkboxes work from the keyboard too.
    page.get_by_label("LS2 Integrative Biology").focus()
    page.keyboard.press("Space")
    page.get_by_label("Keywords").fill("large language models, protein folding")
    page.get_by_label("Time zone").select_option("Europe/Berlin")
    page.get_by_role("button", name="Save and continue").click()

    orcid_field = page.locator(".field", has=page.locator("#id_orcid"))
    expect(orcid_field.locator(".error")).to_contain_text("is not a valid ORCID iD")
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.get_by_label("Full name")).to_have_value("Nina Newcomer")
    expect(page.get_by_label("Affiliation")).to_have_value("Forschungszentrum Jülich")
    expect(page.get_by_label("Country")).to_have_value("DE")
    expect(page.get_by_label("ORCID iD")).to_have_value("0000-0002-1825-0098")
    expect(page.get_by_label("PE6 Computer Science and Informatics")).to_be_checked()
    expect(page.get_by_label("Keywords")).to_have_value("large language models, protein folding")
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Berlin")
    screenshot(page, "06-profile-orcid-error")

    page.get_by_label("ORCID iD").fill("https://orcid.org/0000-0002-1825-0097")
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_text("Your profile is complete")).to_be_visible()
    # Home: nothing waits yet for a newcomer, and the way to the calls is on the page.
    expect(page.get_by_role("heading", name="What waits for you")).to_be_visible()
    expect(page.get_by_text("Nothing waits for you.")).to_be_visible()
    screenshot(page, "07-home-nothing-waits")
    page.get_by_role("link", name="See the open calls").click()
    expect(page.get_by_role("heading", name="Calls for proposals")).to_be_visible()
    screenshot(page, "07-call-list-signed-in")
    user = User.objects.get(email=EMAIL)
    assert (user.orcid, user.expertise, user.country.code) == (
        "0000-0002-1825-0097",
        ["PE6", "LS2"],
        "DE",
    )

    page.get_by_role("link", name="JUPITER 2027-1").click()
    expect(page.get_by_role("heading", name=re.compile("JUPITER 2027-1"))).to_be_visible()
    assert page.url == f"{live_server.url}/calls/{call.pk}/"
    screenshot(page, "08-call-detail")

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/calls/")
    screenshot(page, "09-phone-call-list")
    page.goto(f"{live_server.url}/profile/")
    expect(page.get_by_role("heading", name="Your profile")).to_be_visible()
    screenshot(page, "10-phone-profile")
