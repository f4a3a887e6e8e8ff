"""The usage chart (PRODUCT §8): server-rendered SVG of cumulative use against the award and the
monthly quotas; well-formed, accessible, served as ``image/svg+xml`` to those who may see the
allocation."""

import xml.etree.ElementTree as ET
import zoneinfo
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from allocations.chart import ChartMonth, nice_step, render_usage_chart, series_from_quota
from allocations.quota import QuotaEntry, quota_months
from tests.allocation_factories import add_usage, make_allocation
from tests.conftest import make_manager
from tests.factories import make_resource

SVG = "{http://www.w3.org/2000/svg}"
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")

# Four months, 100 a month of an award of 400; 50 used in the first, 100 in the second; the
# last two are still to come.
EXAMPLE = [
    ChartMonth(date(2027, 5, 1), Decimal(100), Decimal(50)),
    ChartMonth(date(2027, 6, 1), Decimal(200), Decimal(150)),
    ChartMonth(date(2027, 7, 1), Decimal(300), None),
    ChartMonth(date(2027, 8, 1), Decimal(400), None),
]


def parse(text: str | bytes) -> ET.Element:
    """Parse the SVG as XML: it must be well-formed. (Our own output, so plain ElementTree.)"""
    return ET.fromstring(text)  # noqa: S314


def chart(**kwargs) -> ET.Element:
    options = {
        "months": EXAMPLE,
        "awarded": Decimal(400),
        "unit": "GPU-hours",
        "title": "Use of JUPITER Booster on moe",
        **kwargs,
    }
    return parse(render_usage_chart(**options))


def test_the_series_are_polylines_through_known_points():
    svg = chart()

    # x: 80 + 384 × month end / 4; y: 260 − 240 × value / 500 (the axis goes to 500 by 100).
    quota = svg.find(f"{SVG}polyline[@class='series-quota']")
    used = svg.find(f"{SVG}polyline[@class='series-used']")
    award = svg.find(f"{SVG}line[@class='series-award']")
    assert quota.get("points") == "80.0,260.0 176.0,212.0 272.0,164.0 368.0,116.0 464.0,68.0"
    assert used.get("points") == "80.0,260.0 176.0,236.0 272.0,188.0"
    assert (award.get("y1"), award.get("y2")) == ("68.0", "68.0")


def test_the_axes_are_labelled():
    svg = chart()

    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert texts[:6] == ["0", "100", "200", "300", "400", "500"]
    assert "GPU-hours" in texts
    assert [t for t in texts if t and t.endswith(" 27")] == ["May 27", "Jun 27", "Jul 27", "Aug 27"]


def test_the_legend_names_each_series():
    svg = chart()

    legend = svg.find(f"{SVG}g[@class='legend']")
    assert [t.text for t in legend.iter(f"{SVG}text")] == [
        "Used, cumulative",
        "Monthly quotas, cumulative",
        "Award",
    ]


def test_title_and_description_name_the_chart_for_screen_readers():
    svg = chart(id_prefix="chart-7")

    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "chart-7-title chart-7-desc"
    assert svg.find(f"{SVG}title").get("id") == "chart-7-title"
    assert svg.find(f"{SVG}title").text == "Use of JUPITER Booster on moe"
    assert svg.find(f"{SVG}desc").text == (
        "From May 2027 to August 2027. Award: 400 GPU-hours. Used by the end of June 2027: "
        "150 GPU-hours, against quotas of 200 GPU-hours up to then."
    )


def test_text_is_escaped_and_the_result_stays_well_formed():
    svg = chart(title='<script>alert("x")</script> & co', unit="<b>h</b>")

    assert svg.find(f"{SVG}title").text == '<script>alert("x")</script> & co'
    assert svg.find(f"{SVG}script") is None


def test_before_the_period_there_is_no_use_line():
    months = [ChartMonth(m.month, m.quota_to_date, None) for m in EXAMPLE]

    svg = chart(months=months)

    assert svg.find(f"{SVG}polyline[@class='series-used']") is None
    assert "Nothing used yet" in svg.find(f"{SVG}desc").text


def test_no_javascript_no_external_reference_no_inline_style():
    text = render_usage_chart(months=EXAMPLE, awarded=Decimal(400), unit="GPU-hours", title="t")

    assert "<script" not in text
    assert "href" not in text
    assert "style" not in text
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")


def test_use_above_the_award_stretches_the_axis():
    months = [ChartMonth(date(2027, 5, 1), Decimal(100), Decimal(1_200))]

    svg = chart(months=months, awarded=Decimal(100))

    texts = [t.text for t in svg.find(f"{SVG}g[@class='y-axis']").iter(f"{SVG}text")]
    assert texts == ["0", "250", "500", "750", "1,000", "1,250", "GPU-hours"]


@pytest.mark.parametrize(
    ("top", "step"),
    [(Decimal(400), 100), (Decimal(12_000), 2_500), (Decimal(7), 2), (Decimal(0), 1)],
)
def test_nice_steps(top, step):
    assert nice_step(top) == step


def test_the_series_from_the_quota_sums_month_by_month():
    result = quota_months(
        start=date(2027, 5, 1),
        end=date(2027, 8, 31),
        policy="monthly",
        entries=[
            QuotaEntry("award", Decimal(400), date(2027, 5, 1)),
            QuotaEntry("usage", Decimal(-50), date(2027, 5, 10)),
            QuotaEntry("usage", Decimal(-100), date(2027, 6, 10)),
        ],
        today=date(2027, 6, 15),
    )

    assert series_from_quota(result.months) == EXAMPLE


# --- The view --------------------------------------------------------------------------------


def month_start(offset: int) -> date:
    today = timezone.localdate(timezone=BERLIN)
    index = today.year * 12 + today.month - 1 + offset
    return date(index // 12, index % 12 + 1, 1)


@pytest.fixture
def booster(db):
    return make_resource()


@pytest.fixture
def allocation(pi, coi, booster):
    """Four months from last month: 400 GPU-hours; 50 used last month, 100 this month."""
    allocation = make_allocation(
        pi=pi,
        awarded={booster: 400},
        start=month_start(-1),
        end=month_start(3) - timedelta(days=1),
        members=[coi],
    )
    add_usage(allocation, booster, 50, on=month_start(-1), user=pi)
    add_usage(allocation, booster, 100, on=month_start(0), user=coi)
    return allocation


def chart_url(allocation, **query) -> str:
    url = reverse("allocation_chart", args=[allocation.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_the_view_serves_the_svg_of_the_allocation(client, allocation, pi):
    client.force_login(pi)

    response = client.get(chart_url(allocation))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["X-Content-Type-Options"] == "nosniff"
    svg = parse(response.content)
    assert svg.find(f"{SVG}polyline[@class='series-quota']").get("points") == (
        "80.0,260.0 176.0,212.0 272.0,164.0 368.0,116.0 464.0,68.0"
    )
    # Cumulative use: 50, then 150.
    assert svg.find(f"{SVG}polyline[@class='series-used']").get("points") == (
        "80.0,260.0 176.0,236.0 272.0,188.0"
    )
    assert svg.find(f"{SVG}title").text == f"Use of JUPITER Booster on {allocation.account}"


def test_the_view_picks_a_resource_by_code(client, allocation, pi):
    client.force_login(pi)

    assert client.get(chart_url(allocation, resource="jupiter-booster")).status_code == 200
    assert client.get(chart_url(allocation, resource="nothing")).status_code == 404


@pytest.mark.parametrize(("who", "status"), [("pi", 200), ("coi", 200), ("outsider", 404)])
def test_who_gets_the_chart(client, allocation, who, status, request):
    client.force_login(request.getfixturevalue(who))

    assert client.get(chart_url(allocation)).status_code == status


def test_a_manager_gets_the_chart(client, allocation):
    client.force_login(make_manager())

    assert client.get(chart_url(allocation)).status_code == 200


def test_anonymous_is_sent_to_sign_in(client, allocation):
    response = client.get(chart_url(allocation))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_post_is_not_allowed(client, allocation, pi):
    client.force_login(pi)

    assert client.post(chart_url(allocation)).status_code == 405
