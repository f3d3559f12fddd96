from tui.domain.masking import mask_secret


def test_shows_only_the_last_four() -> None:
    assert mask_secret("0123456789abcdef") == "************cdef"


def test_short_secrets_show_nothing() -> None:
    assert mask_secret("abcd") == "********"
    assert mask_secret("abcdefgh") == "********"
