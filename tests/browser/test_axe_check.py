"""The accessibility check itself must be able to fail."""

import pytest

from tests.browser.conftest import assert_accessible


@pytest.mark.browser
def test_axe_reports_an_unlabelled_input_and_a_missing_alt(page):
    page.set_content(
        '<html lang="en"><head><title>t</title></head><body><main>'
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><input type="text">'
        "</main></body></html>"
    )
    with pytest.raises(AssertionError) as failure:
        assert_accessible(page, "broken")
    assert "image-alt" in str(failure.value)
    assert "label" in str(failure.value)
