"""A researcher's whole proposal: start it from the call, invite a co-investigator who accepts
through the emailed link, fill the sections together, be refused once and see why, upload the
project description, submit, get the reference and the receipt, take it back, change it and
submit again. Every screen is saved as a screenshot (20- onwards) for people to review."""

import re
import zoneinfo
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from proposals.submission.models import Proposal
from tests.browser.conftest import PHONE, screenshot
from tests.conftest import PASSWORD, make_user
from tests.factories import make_call
from tests.pdfs import pdf_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PI_EMAIL = "paula.pi@uni.example"
COI_EMAIL = "carl.coi@lab.example"
LAPTOP = {"width": 1280, "height": 800}
TITLE = "Scaling laws of sparse mixture-of-experts language models"
NEW_TITLE = "Scaling laws of sparse and dense mixture-of-experts language models"


def _sign_in(page: Page, email: str) -> None:
    """On allauth's sign-in page: fill it in and wait for the page it leads to."""
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def _link_in_email(to: str, pattern: str, live_url: str) -> str:
    bodies = [message.body for message in mail.outbox if message.to == [to]]
    links = [m.group(0) for body in bodies for m in re.finditer(pattern, body)]
    assert len(links) == 1, bodies
    return links[0].replace(settings.SITE_URL, live_url)


def _click(page: Page, name: str, *, role: str = "button") -> None:
    """Press a button (or follow a link) and wait for the page it loads."""
    with page.expect_navigation():
        page.get_by_role(role, name=name, exact=True).click()


def _sidebar(page: Page, name: str) -> None:
    nav = page.get_by_role("navigation", name="Proposal sections")
    with page.expect_navigation():
        nav.get_by_role("link", name=name, exact=True).click()


def _on_phone(page: Page, name: str) -> None:
    page.set_viewport_size(PHONE)
    screenshot(page, name)
    page.set_viewport_size(LAPTOP)


def _open_call():
    """Opened at 09:00 ten days ago, closing at 17:00 in a month: dates as a call has them."""
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    today = timezone.now().astimezone(berlin).replace(minute=0, second=0, microsecond=0)
    return make_call(
        "JUPITER 2027-1",
        opens_at=(today - timedelta(days=10)).replace(hour=9),
        closes_at=(today + timedelta(days=30)).replace(hour=17),
    )


def test_proposal_from_start_to_resubmission(page: Page, browser: Browser, live_server, tmp_path):
    call = _open_call()
    make_user(PI_EMAIL, full_name="Paula Investigator", affiliation="Uni Example")
    make_user(COI_EMAIL, full_name="Carl Coinvestigator", affiliation="Lab Example")
    page.set_default_timeout(10_000)
    page.set_viewport_size(LAPTOP)

    # -- The PI opens the call and starts a proposal.
    page.goto(f"{live_server.url}/accounts/login/?next=/calls/{call.pk}/")
    _sign_in(page, PI_EMAIL)
    expect(page.get_by_role("heading", name="JUPITER 2027-1")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Deadline: .* 17:00 CES?T"))).to_be_visible()
    screenshot(page, "20-call-page")
    _click(page, "Start a proposal")

    expect(page.get_by_role("heading", name="General", exact=True)).to_be_visible()
    expect(page.get_by_text("Your draft proposal to JUPITER 2027-1 is started")).to_be_visible()
    expect(page.get_by_label("Principal investigator's affiliation")).to_have_value("Uni Example")
    proposal = Proposal.objects.get()
    overview_url = f"{live_server.url}/proposals/{proposal.pk}/"
    screenshot(page, "21-general-empty")

    # -- ... and invites a co-investigator on the team page.
    _sidebar(page, "Team")
    page.get_by_label("Email address of the co-investigator").fill(COI_EMAIL)
    _click(page, "Send invitation")
    expect(page.get_by_text(f"Invitation sent to {COI_EMAIL}")).to_be_visible()
    team_table = page.get_by_role("table")
    expect(team_table.get_by_role("row", name=re.compile(COI_EMAIL))).to_contain_text("Invited")
    expect(page.get_by_role("link", name="Continue to Resources")).to_be_visible()
    screenshot(page, "22-team-invited")

    # -- The PI tries to submit: refused, with every missing part listed by section.
    _sidebar(page, "Overview and submission")
    _click(page, "Submit")
    problems = page.get_by_role("alert").filter(has_text="cannot be submitted yet")
    expect(problems).to_be_visible()
    for missing in (
        "Fill in “Title”.",
        "Request an amount of at least one resource.",
        "Add at least one row to the scaling table",
        "Upload the project description (PDF).",
    ):
        expect(problems.get_by_role("link", name=missing)).to_be_visible()
    proposal.refresh_from_db()
    assert proposal.status == "draft" and proposal.reference is None
    screenshot(page, "23-submit-refused")
    _on_phone(page, "24-phone-submit-refused")

    # ... and follows a problem to its field.
    with page.expect_navigation():
        problems.get_by_role("link", name="Fill in “Title”.").click()
    expect(page.get_by_role("status").get_by_role("link", name="Fill in “Title”.")).to_be_visible()
    # Beside each field, and tied to it for screen readers.
    title = page.get_by_label("Title", exact=True)
    expect(title).to_have_accessible_description(re.compile("Fill in “Title”."))
    expect(title).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Acronym")).to_have_accessible_description(
        re.compile("Fill in “Acronym”.")
    )
    screenshot(page, "25-general-problems")
    _on_phone(page, "26-phone-general-problems")

    # -- The co-investigator (already registered) opens the emailed link in their own browser.
    invitation = _link_in_email(COI_EMAIL, r"https?://\S+/invitations/\S+/", live_server.url)
    coi_context = browser.new_context(viewport=LAPTOP)
    coi = coi_context.new_page()
    coi.set_default_timeout(10_000)
    coi.goto(invitation)
    expect(coi.get_by_role("heading", name="Invitation to a proposal")).to_be_visible()
    expect(coi.get_by_text("Paula Investigator invites you")).to_be_visible()
    screenshot(coi, "27-invitation-signed-out")
    _click(coi, "Sign in to accept", role="link")
    _sign_in(coi, COI_EMAIL)
    expect(coi.get_by_role("heading", name="Invitation to a proposal")).to_be_visible()
    screenshot(coi, "28-invitation-signed-in")
    _click(coi, "Accept and join the team")
    expect(coi.get_by_text("Welcome to the team")).to_be_visible()
    assert coi.url == overview_url
    screenshot(coi, "29-coi-overview")

    # The co-investigator fills the technical data, with two rows in the scaling table.
    expect(coi.get_by_text("Only the principal investigator, Paula Investigator")).to_be_visible()
    _sidebar(coi, "Technical data")
    scaling = coi.get_by_role("group", name="Scaling table")
    expect(scaling).to_have_accessible_description(re.compile("Add at least one row"))
    screenshot(coi, "30-technical-problems")
    coi.get_by_label("Codes and versions").fill("PyTorch 2.5, Megatron-LM 0.9")
    coi.get_by_label("Typical job size").fill("512 GPUs")
    coi.get_by_label("Typical wall time").fill("24 hours")
    coi.get_by_label("Memory per job").fill("80 GB per GPU")
    coi.get_by_label("Storage and data management").fill("200 TB on the project file system.")
    coi.get_by_label("GPUs, row 1").fill("64")
    coi.get_by_label("Time per step (seconds), row 1").fill("1.2")
    rows_before = coi.get_by_label(re.compile(r"^GPUs, row \d+$")).count()
    _click(coi, "Add a row")
    expect(coi.get_by_role("status").filter(has_text="A row was added")).to_be_visible()
    expect(coi.get_by_label(re.compile(r"^GPUs, row \d+$"))).to_have_count(rows_before + 1)
    expect(coi.get_by_label("GPUs, row 1")).to_have_value("64")
    expect(coi.get_by_label("Codes and versions")).to_have_value("PyTorch 2.5, Megatron-LM 0.9")
    coi.get_by_label("GPUs, row 2").fill("128")
    coi.get_by_label("Time per step (seconds), row 2").fill("0.65")
    screenshot(coi, "31-technical-row-added")
    _click(coi, "Save draft")
    expect(coi.get_by_text(re.compile(r"Saved at \d\d:\d\d:\d\d"))).to_be_visible()
    expect(coi.get_by_label("GPUs, row 2")).to_have_value("128")
    screenshot(coi, "32-technical-saved")
    assert [p.gpus for p in proposal.scaling.order_by("position")] == [64, 128]

    # -- Meanwhile the PI, on the general page opened before that save, fills it in.
    page.get_by_label("Title", exact=True).fill(TITLE)
    page.get_by_label("Acronym").fill("SPARSE-MOE")
    page.get_by_label("Abstract").fill("We measure how sparse expert models scale.")
    page.get_by_label("Field of science").select_option("PE6")
    page.get_by_label("Keywords").fill("language models, mixture of experts")
    _click(page, "Save and continue")
    # The co-investigator saved in between, but nothing on this page: the save goes through
    # at once, on top of their version, and says whose changes were kept.
    expect(
        page.get_by_text(
            re.compile(
                r"Saved at \d\d:\d\d:\d\d\. Carl Coinvestigator had meanwhile saved another "
                r"part of the proposal; their changes are kept\."
            )
        )
    ).to_be_visible()
    expect(page.get_by_role("heading", name="Team", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name=f"SPARSE-MOE: {TITLE}")).to_be_visible()
    screenshot(page, "33-general-saved-in-between")
    proposal.refresh_from_db()
    assert (proposal.title, proposal.codes) == (TITLE, "PyTorch 2.5, Megatron-LM 0.9")
    assert [p.gpus for p in proposal.scaling.order_by("position")] == [64, 128]

    # Resources.
    _sidebar(page, "Resources")
    page.get_by_label("Amount requested (GPU-hours)").fill("100000")
    page.get_by_label("Justification").fill("200 runs of 500 GPU-hours, measured on JUWELS.")
    _click(page, "Save and continue")
    expect(page.get_by_role("heading", name="Technical data")).to_be_visible()
    _sidebar(page, "Resources")
    expect(page.get_by_label("Amount requested (GPU-hours)")).to_have_value("100000")
    screenshot(page, "34-resources-saved")

    # The project description: the one problem left, followed from the overview.
    _sidebar(page, "Overview and submission")
    expect(page.get_by_text("One thing still stops this proposal")).to_be_visible()
    screenshot(page, "35-overview-one-problem")
    with page.expect_navigation():
        page.get_by_role("link", name="Upload the project description (PDF).").click()
    expect(page.get_by_role("heading", name="Attachments", exact=True)).to_be_visible()
    upload = page.get_by_role("region", name="Upload a PDF")
    expect(upload).to_be_in_viewport()
    expect(upload.get_by_text("Upload the project description (PDF).")).to_be_visible()
    screenshot(page, "36-attachments-missing")
    description = tmp_path / "project-description.pdf"
    description.write_bytes(pdf_bytes(3))
    expect(page.get_by_label("Project description")).to_be_checked()
    page.get_by_label("PDF file").set_input_files(description)
    _click(page, "Upload")
    current = page.get_by_role("table", name="Current files of this proposal")
    expect(current.get_by_role("link", name="project-description.pdf")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="could not be submitted")).to_have_count(0)
    screenshot(page, "37-attachments-uploaded")

    # -- Everything is complete: the PI goes on to submit.
    _click(page, "Continue to the overview and submission", role="link")
    expect(page.get_by_text("Every section is complete.")).to_be_visible()
    expect(page.get_by_text("Carl Coinvestigator · co-investigator")).to_be_visible()
    screenshot(page, "38-overview-ready")
    mail.outbox.clear()
    _click(page, "Submit")
    expect(page.get_by_text("Submitted. Reference JUP27-1-0001.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"SPARSE-MOE: {TITLE}")
    where = page.get_by_role("region", name="Where it stands")
    expect(where.get_by_role("definition").nth(1)).to_have_text("JUP27-1-0001")
    screenshot(page, "39-submitted")
    receipts = [m for m in mail.outbox if "Received" in m.subject]
    assert sorted(address for m in receipts for address in m.to) == [COI_EMAIL, PI_EMAIL]
    assert {m.subject for m in receipts} == {"[Allot] Received: JUP27-1-0001 SPARSE-MOE"}
    assert "JUP27-1-0001" in receipts[0].body

    # -- Taken back to draft, retitled, submitted again.
    _click(page, "Take back to draft")
    expect(page.get_by_text("Your proposal is a draft again.")).to_be_visible()
    screenshot(page, "40-taken-back")
    _sidebar(page, "General")
    page.get_by_label("Title", exact=True).fill(NEW_TITLE)
    _click(page, "Save draft")
    expect(page.get_by_text(re.compile(r"Saved at \d\d:\d\d:\d\d"))).to_be_visible()
    # Every section page reminds the PI that the draft must be submitted again.
    expect(page.get_by_text("was taken back to draft and is not submitted now")).to_be_visible()
    screenshot(page, "41-general-retitled")
    _sidebar(page, "Overview and submission")
    mail.outbox.clear()
    _click(page, "Submit again")
    expect(page.get_by_text("Submitted. Reference JUP27-1-0001.")).to_be_visible()
    versions = page.get_by_role("region", name="Submitted versions")
    expect(versions.get_by_role("link", name=re.compile(r"^Version \d$"))).to_have_text(
        ["Version 1", "Version 2"]
    )
    screenshot(page, "42-resubmitted")
    assert sorted(address for m in mail.outbox for address in m.to) == [COI_EMAIL, PI_EMAIL]

    # Each version opens and shows the title it was submitted with.
    for number, title, name in ((1, TITLE, "43-version-1"), (2, NEW_TITLE, "44-version-2")):
        with page.expect_navigation():
            versions.get_by_role("link", name=f"Version {number}").click()
        expect(page.get_by_role("heading", name=f"Version {number}", exact=True)).to_be_visible()
        general = page.get_by_role("region", name="General")
        expect(general.get_by_role("definition").first).to_have_text(title)
        expect(page.get_by_role("heading", level=1)).to_have_text(f"SPARSE-MOE: {title}")
        screenshot(page, name)
        page.go_back()
    page.set_viewport_size(PHONE)
    screenshot(page, "45-phone-resubmitted")
    page.set_viewport_size(LAPTOP)

    # The co-investigator's list shows the submitted proposal.
    coi.goto(f"{live_server.url}/proposals/")
    row = coi.get_by_role("row", name=re.compile("SPARSE-MOE"))
    expect(row).to_contain_text("JUP27-1-0001")
    expect(row).to_contain_text("Submitted")
    screenshot(coi, "46-coi-my-proposals")
    coi_context.close()
