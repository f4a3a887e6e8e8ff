"""The applicant's journey in German (on a laptop) and in Korean (on a phone), as a browser set
to that language walks it (issue 14, point 2): sign up, confirm the address, fill in the
profile, see the home page, open the call, start a proposal and be refused at submission with
what is missing. Every screen is saved as a screenshot (``lang-de-…``, ``lang-ko-…``), is checked
with axe, carries no English text of the app and does not scroll sideways.

The names the test looks for come from the catalogue (``t``), so the test reads the page as a
German or Korean reader does without repeating the translations here.
"""

import re
import zoneinfo
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone, translation
from playwright.sync_api import Browser, Page, expect

from accounts.models import User
from proposals.submission.models import Proposal
from tests.browser.conftest import PHONE, screenshot
from tests.conftest import PASSWORD
from tests.factories import make_call
from tests.test_no_english import NAMED_LISTS, _without, english_in, typed_by_people

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}
CALL = "JUPITER 2027-1"
# What the applicant types, in their language: taken out before looking for English.
TYPED = {
    "de": {"name": "Jana Jülich", "affiliation": "Forschungszentrum Jülich"},
    "ko": {"name": "김서연", "affiliation": "한국과학기술정보연구원"},
}


def _t(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


def _check(page: Page, language: str, name: str, typed: list[str]) -> None:
    """The screen in ``language`` only, without sideways scroll, saved as a screenshot."""
    assert page.locator("html").get_attribute("lang") == language
    body = page.locator("body").inner_text()
    # What people typed, as the walk of every page leaves it out (every text column), and the
    # countries' and zones' names, as django-countries and the IANA database write them.
    named = ", ".join(f"select[name={name}] option" for name in sorted(NAMED_LISTS))
    typed = sorted(
        {*typed, *typed_by_people(), *page.locator(named).all_inner_texts()},
        key=len,
        reverse=True,
    )
    english = [
        (line, english_in(_without(line, typed), language=language))
        for line in body.splitlines()
        if english_in(_without(line, typed), language=language)
    ]
    assert english == [], name
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], (name, widths)
    screenshot(page, f"lang-{language}-{name}")


def _confirmation_link(email: str) -> str:
    bodies = [message.body for message in mail.outbox if message.to == [email]]
    assert len(bodies) == 1, bodies
    return re.search(r"https?://\S+/accounts/confirm-email/\S+", bodies[0]).group(0)


@pytest.mark.parametrize(("language", "viewport"), [("de", LAPTOP), ("ko", PHONE)])
def test_applicant_journey_in_the_browsers_language(
    browser: Browser, live_server, language: str, viewport: dict
):
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    today = timezone.now().astimezone(berlin).replace(minute=0, second=0, microsecond=0)
    call = make_call(
        CALL,
        opens_at=(today - timedelta(days=10)).replace(hour=9),
        closes_at=(today + timedelta(days=30)).replace(hour=17),
    )
    email = f"applicant-{language}@uni.example"
    person = TYPED[language]
    # What the applicant types before it is saved (the rest is read from the database).
    typed = [person["name"], person["affiliation"], email]
    t = lambda text: _t(language, text)  # noqa: E731
    context = browser.new_context(locale={"de": "de-DE", "ko": "ko-KR"}[language])
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.set_viewport_size(viewport)

    page.goto(f"{live_server.url}/calls/")
    expect(page.get_by_role("heading", name=t("Calls for proposals"))).to_be_visible()
    _check(page, language, "01-call-list", typed)

    page.goto(f"{live_server.url}/accounts/signup/")
    page.locator("#id_email").fill(email)
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill("not the same")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    # Refused: the error is in the reader's language, next to its field, the email kept.
    expect(page.locator("#id_email")).to_have_value(email)
    expect(page).to_have_title(re.compile("^" + re.escape(t("Error:"))))
    _check(page, language, "02-signup-refused", typed)
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    _check(page, language, "03-check-your-email", typed)

    page.goto(_confirmation_link(email).replace("http://testserver", live_server.url))
    _check(page, language, "04-confirm-email", typed)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()

    expect(page.get_by_role("heading", name=t("Your profile"))).to_be_visible()
    page.get_by_label(t("Full name")).fill(person["name"])
    page.get_by_label(t("Affiliation")).fill(person["affiliation"])
    page.get_by_label(t("Country")).select_option("DE" if language == "de" else "KR")
    page.locator("input[name=expertise]").first.check()
    page.get_by_label(t("Time zone")).select_option("Europe/Berlin")
    _check(page, language, "05-profile", typed)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    expect(page.get_by_role("heading", name=t("What waits for you"))).to_be_visible()
    _check(page, language, "06-home", typed)
    user = User.objects.get(email=email)
    assert (user.full_name, user.affiliation) == (person["name"], person["affiliation"])

    page.goto(f"{live_server.url}/calls/{call.pk}/")
    _check(page, language, "07-call", typed)
    with page.expect_navigation():
        page.get_by_role("button", name=t("Start a proposal")).click()
    expect(page.get_by_role("heading", name=t("General"), exact=True)).to_be_visible()
    proposal = Proposal.objects.get(call=call)
    _check(page, language, "08-proposal-general", typed)

    page.goto(f"{live_server.url}/proposals/{proposal.pk}/")
    with page.expect_navigation():
        page.get_by_role("button", name=t("Submit"), exact=True).click()
    problems = page.locator("#submit-problems")
    expect(problems).to_be_visible()
    expect(problems).to_contain_text(t("Upload the project description (PDF)."))
    _check(page, language, "09-submit-refused", typed)
    proposal.refresh_from_db()
    assert proposal.submitted_at is None
    context.close()
