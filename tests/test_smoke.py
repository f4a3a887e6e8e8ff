from tests.factories import make_call


def test_open_call_is_open(db):
    call = make_call()
    assert call.status == "open"


def test_a_missing_page_says_so_in_the_readers_language_with_the_way_on(client, settings):
    """Django's own 404 page is English whatever the reader's language: ours is the app's."""
    settings.DEBUG = False
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="de")
    html = response.content.decode()
    assert response.status_code == 404
    assert '<html lang="de"' in html
    assert "<h1>" in html and 'href="/"' in html
