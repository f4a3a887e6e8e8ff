from tests.factories import make_call


def test_open_call_is_open(db):
    call = make_call()
    assert call.status == "open"
