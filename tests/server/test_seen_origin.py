"""The origin a request was seen at, built once per Host header, is the one aiohttp's own
`request.url` gives: the URL checked against the signature does not change."""

from aiohttp.test_utils import make_mocked_request
from hypothesis import given
from hypothesis import strategies as st

from tui.server.receiver import seen_origin
from tui.server.verify import checked_url

HOSTS = st.one_of(
    st.sampled_from([
        "127.0.0.1:8080", "localhost", "Example.COM:443", "example.com:80", "[::1]:1337",
        "x:99999", "a]b", "", "bücher.example", "h:0", "h:", ":80", "user@h", "h/p", "h?q",
    ]),
    st.text(max_size=20),
)  # fmt: skip
TARGETS = st.sampled_from([
    "/message-status", "/message-status?a=1&b=%2B1", "/incoming", "/a/../message-status",
    "http://other.example:81/message-status", "//x/message-status",
])  # fmt: skip


def as_aiohttp_sees(host: str, target: str) -> str | None:
    request = make_mocked_request("POST", target, headers={"Host": host})
    try:
        return checked_url(None, str(request.url), request.raw_path)
    except ValueError:
        return None


def as_receiver_sees(host: str, target: str) -> str | None:
    request = make_mocked_request("POST", target, headers={"Host": host})
    origin = seen_origin(request)
    if origin is None:
        return None
    try:
        return checked_url(None, origin, request.raw_path)
    except ValueError:
        return None


@given(HOSTS, TARGETS)
def test_the_checked_url_is_aiohttps(host: str, target: str) -> None:
    try:
        make_mocked_request("POST", target, headers={"Host": host})
    except ValueError:
        return  # a header aiohttp itself refuses never reaches the receiver
    assert as_receiver_sees(host, target) == as_aiohttp_sees(host, target)
    # ... and again from the cache
    assert as_receiver_sees(host, target) == as_aiohttp_sees(host, target)
