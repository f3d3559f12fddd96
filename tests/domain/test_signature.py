"""Webhook signatures: Twilio's published vectors, and differential tests against the SDK.

The SDK (twilio 9.13, `twilio.request_validator`) is the reference: for any URL, params, key
and algorithm, our signatures and verdicts must equal its own, except where it raises and we
answer False (None signature, unparseable URL, lone surrogates, JSON without bodySHA256).
"""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qs, urlparse

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from multidict import MultiDict
from twilio.request_validator import (
    RequestValidator,
    add_port,
    get_signature_algorithm,
    remove_port,
)

from tui.domain.signature import (
    SIGNATURE_SETTINGS_HEADER,
    Algorithm,
    SignatureSettings,
    UnsupportedAlgorithmError,
    body_sha256,
    compute_signature,
    is_valid,
    is_valid_json,
    parse_signature_settings,
    signature_settings_header,
    signing_string,
    url_variants,
)

# --- Published vectors ----------------------------------------------------------------------

TOKEN = "12345"
# https://www.twilio.com/docs/usage/security#validating-requests
DOCS_URL = "https://example.com/myapp.php?foo=1&bar=2"
DOCS_PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+14158675310"),
    ("Digits", "1234"),
    ("From", "+14158675310"),
    ("To", "+18005551212"),
]
# twilio-python tests/unit/test_request_validator.py. Its numbers end in 5309, not 5310 as
# in the docs; with 5310 the SDK itself gives other signatures.
SDK_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
SDK_PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
    ("Caller", "+14158675309"),
]
JSON_BODY = '{"property": "value", "boolean": true}'
JSON_BODY_SHA256 = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
JSON_URL = f"{SDK_URL}&bodySHA256={JSON_BODY_SHA256}"


def test_docs_vector() -> None:
    assert compute_signature(DOCS_URL, DOCS_PARAMS, TOKEN) == "L/OH5YylLD5NRKLltdqwSvS0BnU="
    assert is_valid(DOCS_URL, DOCS_PARAMS, "L/OH5YylLD5NRKLltdqwSvS0BnU=", TOKEN)


def test_docs_signing_string() -> None:
    assert signing_string(DOCS_URL, DOCS_PARAMS) == (
        "https://example.com/myapp.php?foo=1&bar=2CallSidCA1234567890ABCDECaller+14158675310"
        "Digits1234From+14158675310To+18005551212"
    )


def test_sdk_vectors() -> None:
    assert compute_signature(SDK_URL, SDK_PARAMS, TOKEN) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    port_url = SDK_URL.replace(".com", ".com:443")
    assert compute_signature(port_url, SDK_PARAMS, TOKEN) == "kvajT1Ptam85bY51eRf/AJRuM3w="
    # Both verdicts as the SDK's own tests state them.
    assert is_valid(SDK_URL, SDK_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", TOKEN)
    assert is_valid(SDK_URL, SDK_PARAMS, "kvajT1Ptam85bY51eRf/AJRuM3w=", TOKEN)
    assert is_valid(port_url, SDK_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", TOKEN)
    other_port = SDK_URL.replace(".com", ".com:1234")
    assert is_valid(other_port, SDK_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", TOKEN)
    http_port = other_port.replace("https", "http")
    assert is_valid(http_port, SDK_PARAMS, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", TOKEN)
    http = SDK_URL.replace("https", "http")
    assert is_valid(http, SDK_PARAMS, "0ZXoZLH/DfblKGATFgpif+LLRf4=", TOKEN)


def test_sdk_duplicate_params_vector() -> None:
    params = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234")]
    assert compute_signature(SDK_URL, params, TOKEN) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="


def test_json_vector() -> None:
    assert body_sha256(JSON_BODY) == JSON_BODY_SHA256
    assert body_sha256(JSON_BODY.encode()) == JSON_BODY_SHA256
    assert compute_signature(JSON_URL, [], TOKEN) == "a9nBmqA0ju/hNViExpshrM61xv4="
    assert is_valid_json(JSON_URL, JSON_BODY, "a9nBmqA0ju/hNViExpshrM61xv4=", TOKEN)
    assert is_valid_json(JSON_URL, JSON_BODY.encode(), "a9nBmqA0ju/hNViExpshrM61xv4=", TOKEN)
    assert RequestValidator(TOKEN).validate(JSON_URL, JSON_BODY, "a9nBmqA0ju/hNViExpshrM61xv4=")


def test_json_tampered_body_or_missing_hash() -> None:
    sig = "a9nBmqA0ju/hNViExpshrM61xv4="
    assert not is_valid_json(JSON_URL, JSON_BODY.replace("true", "false"), sig, TOKEN)
    assert not is_valid_json(JSON_URL.upper().replace("HTTPS", "https"), JSON_BODY, sig, TOKEN)
    no_hash = compute_signature(SDK_URL, [], TOKEN)
    assert not is_valid_json(SDK_URL, JSON_BODY, no_hash, TOKEN)
    assert not is_valid_json(SDK_URL, "", no_hash, TOKEN)  # the SDK would say True here
    upper = JSON_URL.replace(JSON_BODY_SHA256, JSON_BODY_SHA256.upper())
    assert not is_valid_json(upper, JSON_BODY, compute_signature(upper, [], TOKEN), TOKEN)


# --- Missing and tampered -----------------------------------------------------------------


@pytest.mark.parametrize("signature", [None, ""])
def test_missing_signature_is_false(signature: str | None) -> None:
    assert is_valid(DOCS_URL, DOCS_PARAMS, signature, TOKEN) is False
    assert is_valid_json(JSON_URL, JSON_BODY, signature, TOKEN) is False
    if signature is None:
        with pytest.raises(TypeError):  # what the SDK does, and we must not
            RequestValidator(TOKEN).validate(DOCS_URL, dict(DOCS_PARAMS), signature)
    else:
        assert not RequestValidator(TOKEN).validate(DOCS_URL, dict(DOCS_PARAMS), signature)


def test_tampered_value_is_rejected() -> None:
    sig = compute_signature(DOCS_URL, DOCS_PARAMS, TOKEN)
    tampered = [(n, "+19995550000" if n == "To" else v) for n, v in DOCS_PARAMS]
    assert not is_valid(DOCS_URL, tampered, sig, TOKEN)
    assert not is_valid(DOCS_URL, [*DOCS_PARAMS, ("Body", "x")], sig, TOKEN)
    assert not is_valid(DOCS_URL.replace("foo=1", "foo=2"), DOCS_PARAMS, sig, TOKEN)
    assert not is_valid(DOCS_URL, DOCS_PARAMS, sig, "54321")
    assert not is_valid(DOCS_URL, DOCS_PARAMS, sig, TOKEN, Algorithm.HMAC_SHA256)
    assert not is_valid(DOCS_URL, DOCS_PARAMS, sig + " ", TOKEN)
    assert not is_valid(DOCS_URL, DOCS_PARAMS, "L/OH5YylLD5NRKLltdqwSvS0BnÜ=", TOKEN)


@pytest.mark.parametrize(
    "url",
    ["https://example.com:99999/x", "https://example.com:abc/x", "http://[::1/x", "https://h:-1/"],
)
def test_unparseable_url_is_false_where_the_sdk_raises(url: str) -> None:
    with pytest.raises(ValueError):
        RequestValidator(TOKEN).validate(url, {}, "x")
    with pytest.raises(ValueError):
        url_variants(url)
    assert is_valid(url, [], compute_signature(url, [], TOKEN), TOKEN) is False
    assert is_valid_json(url + "?bodySHA256=0", "", "x", TOKEN) is False


def test_lone_surrogate_is_false() -> None:
    with pytest.raises(UnicodeEncodeError):
        compute_signature(DOCS_URL, [("Body", "\ud800")], TOKEN)
    assert not is_valid(DOCS_URL, [("Body", "\ud800")], "L/OH5YylLD5NRKLltdqwSvS0BnU=", TOKEN)
    assert not is_valid(DOCS_URL + "\udcff", [], "L/OH5YylLD5NRKLltdqwSvS0BnU=", TOKEN)
    assert not is_valid(DOCS_URL, DOCS_PARAMS, "\udcff", TOKEN)
    assert not is_valid_json(JSON_URL, "\ud800", "a9nBmqA0ju/hNViExpshrM61xv4=", TOKEN)


# --- URL variants ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://h.com/p?q=1", ("https://h.com/p?q=1", "https://h.com:443/p?q=1")),
        ("http://h.com/p", ("http://h.com/p", "http://h.com:80/p")),
        ("https://h.com:443/p", ("https://h.com:443/p", "https://h.com/p")),
        ("https://h.com:8443/p", ("https://h.com:8443/p", "https://h.com/p")),
        ("HTTPS://H.com/p?", ("https://H.com/p", "https://H.com:443/p")),
        # The SDK's remove_port keeps only what precedes the netloc's first ':'.
        ("https://u:pw@h.com:8443/p", ("https://u:pw@h.com:8443/p", "https://u/p")),
        ("https://u:pw@h.com/p", ("https://u:pw@h.com/p", "https://u:pw@h.com:443/p")),
        ("http://[::1]:8080/p", ("http://[::1]:8080/p", "http://[/p")),
        # Port 0 is "no port" to the SDK (`if uri.port:`), so a default port is appended.
        ("https://h.com:0/p", ("https://h.com:0/p", "https://h.com:0:443/p")),
    ],
)
def test_url_variants(url: str, expected: tuple[str, ...]) -> None:
    assert url_variants(url) == expected


# --- Signature settings -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("garbage", None),
        ("key=,algorithm=", None),
        (
            "key=webhooks_sharedkey_abc,algorithm=HMAC_SHA256",
            SignatureSettings("webhooks_sharedkey_abc", Algorithm.HMAC_SHA256),
        ),
        (" algorithm = hmac_sha256 , key = k1 ", SignatureSettings("k1", Algorithm.HMAC_SHA256)),
        ("algorithm=HMAC_SHA1", SignatureSettings(None, Algorithm.HMAC_SHA1)),
        ("key=k1", SignatureSettings("k1", Algorithm.HMAC_SHA1)),
        (
            "algorithm=,algorithm=HMAC_SHA256,algorithm=HMAC_SHA1",
            SignatureSettings(None, Algorithm.HMAC_SHA256),
        ),
        ("Algorithm=HMAC_SHA256", None),
    ],
)
def test_parse_signature_settings(header: str | None, expected: SignatureSettings | None) -> None:
    assert parse_signature_settings(header) == expected


@pytest.mark.parametrize("header", ["algorithm=HMAC_SHA512", "key=k,algorithm=sha256"])
def test_unsupported_algorithm(header: str) -> None:
    with pytest.raises(UnsupportedAlgorithmError, match="unsupported webhook signature"):
        parse_signature_settings(header)
    assert issubclass(UnsupportedAlgorithmError, ValueError)
    # The SDK reads the same algorithm and then fails validation.
    sdk_algorithm = get_signature_algorithm(header)
    assert not RequestValidator(TOKEN).validate(DOCS_URL, {}, "x", sdk_algorithm)


def test_settings_are_frozen() -> None:
    settings_value = SignatureSettings("k", Algorithm.HMAC_SHA1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings_value.key_id = "other"


def test_signature_settings_header() -> None:
    assert (
        signature_settings_header(Algorithm.HMAC_SHA256, "webhooks_sharedkey_abc")
        == "key=webhooks_sharedkey_abc,algorithm=HMAC_SHA256"
    )
    assert signature_settings_header(Algorithm.HMAC_SHA1) == "algorithm=HMAC_SHA1"
    assert SIGNATURE_SETTINGS_HEADER == "X-Twilio-Webhooks-Signature-Settings"


@pytest.mark.parametrize("key_id", ["", "a,b", " k", "k\n"])
def test_signature_settings_header_refuses_unparseable_key(key_id: str) -> None:
    with pytest.raises(ValueError, match="cannot be carried"):
        signature_settings_header(Algorithm.HMAC_SHA256, key_id)


@given(
    st.sampled_from(Algorithm),
    st.none() | st.text(min_size=1).filter(lambda k: "," not in k and k.strip() == k),
)
def test_settings_header_round_trips(algorithm: Algorithm, key_id: str | None) -> None:
    header = signature_settings_header(algorithm, key_id)
    assert parse_signature_settings(header) == SignatureSettings(key_id, algorithm)
    assert get_signature_algorithm(header) == algorithm


_SETTINGS_PARTS = st.sampled_from(
    ["algorithm", "key", " algorithm ", "Algorithm", "HMAC_SHA256", "hmac_sha1", "HMAC_SHA512"]
)
_SETTINGS_HEADERS = st.lists(
    st.tuples(_SETTINGS_PARTS | st.text(max_size=4), st.sampled_from(["=", "", " = "]))
    .flatmap(lambda p: st.tuples(st.just(p), _SETTINGS_PARTS | st.text(max_size=4)))
    .map(lambda t: f"{t[0][0]}{t[0][1]}{t[1]}"),
    max_size=4,
).map(",".join)


@settings(max_examples=300)
@given(_SETTINGS_HEADERS | st.text())
def test_settings_algorithm_agrees_with_sdk(header: str) -> None:
    sdk = get_signature_algorithm(header).upper()
    if sdk in {"HMAC_SHA1", "HMAC_SHA256"}:
        parsed = parse_signature_settings(header)
        assert (Algorithm.HMAC_SHA1 if parsed is None else parsed.algorithm) == sdk
    else:
        with pytest.raises(UnsupportedAlgorithmError):
            parse_signature_settings(header)


# --- Differential tests against the SDK -----------------------------------------------------

_WEIRD = st.sampled_from(
    ["", "é", "ß", "😀", "\N{LATIN SMALL LETTER LONG S}", "+", "%20", "%F0%9F%98%80", "=", "&", " "]
)
_TEXT = st.text(max_size=6) | _WEIRD
_URL_SAFE = st.text(
    alphabet=st.characters(exclude_characters="/?#@:[]\t\r\n", exclude_categories=["Cs", "Cc"]),
    max_size=5,
)
_QUERY = st.lists(
    st.tuples(st.sampled_from(["foo", "bar", "Foo", "bodySHA256", "ü", "😀"]) | _URL_SAFE, _TEXT),
    max_size=4,
).map(lambda pairs: "&".join(f"{k}={v}" for k, v in pairs + pairs[:1]))


@st.composite
def _urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["https", "http", "HTTPS", "Http"]))
    userinfo = draw(
        st.sampled_from(["", "user@", "user:pass@", ":@", "u%40x:p%3Ay@"])
        | _URL_SAFE.map(lambda u: f"{u}@")
    )
    host = draw(
        st.sampled_from(
            ["example.com", "mycompany.com", "Example.COM", "127.0.0.1", "[::1]", "bücher.de", ""]
        )
    )
    port = draw(st.sampled_from(["", ":443", ":80", ":8080", ":1234", ":0", ":", ":65535"]))
    path = draw(st.sampled_from(["", "/", "/myapp.php", "/a/b;p", "/ü/😀", "//x"]) | _URL_SAFE)
    query = draw(st.sampled_from(["", "?"]) | _QUERY.map(lambda q: f"?{q}"))
    fragment = draw(st.sampled_from(["", "#", "#frag"]))
    return f"{scheme}://{userinfo}{host}{port}{path}{query}{fragment}"


URLS = _urls() | st.text(max_size=30)
_NAMES = st.sampled_from(["MediaUrl0", "mediaurl0", "Body", "body", "From", "To", "ü", "😀", ""])
PARAMS = st.lists(st.tuples(_NAMES | _TEXT, _TEXT), max_size=6).flatmap(
    # Repeat some pairs verbatim: the SDK de-duplicates them.
    lambda pairs: st.integers(0, len(pairs)).map(lambda k: pairs + pairs[:k])
)
KEYS = st.text(min_size=1, max_size=12) | st.sampled_from(["12345", "😀", " "])
ALGORITHMS = st.sampled_from(Algorithm)


def _sdk_sign(url: str, params: list[tuple[str, str]], key: str, algorithm: Algorithm) -> str:
    sdk = RequestValidator(key)
    return str(sdk.compute_signature(url, MultiDict(params), algorithm))


def _sdk_validate(
    url: str, params: list[tuple[str, str]] | str, signature: str, key: str, algorithm: Algorithm
) -> bool | None:
    """The SDK's verdict, or None where it raises (for an unparseable URL)."""
    body_or_form = params if isinstance(params, str) else MultiDict(params)
    try:
        return bool(RequestValidator(key).validate(url, body_or_form, signature, algorithm))
    except ValueError:
        return None


def _sdk_variants(url: str) -> list[str]:
    parsed = urlparse(url)
    return [url, remove_port(parsed), add_port(parsed)]


@settings(max_examples=300)
@given(URLS, PARAMS, KEYS, ALGORITHMS)
def test_compute_signature_equals_sdk(
    url: str, params: list[tuple[str, str]], key: str, algorithm: Algorithm
) -> None:
    ours = compute_signature(url, params, key, algorithm)
    assert ours == _sdk_sign(url, params, key, algorithm)
    # Order of the pairs never matters.
    assert compute_signature(url, params[::-1], key, algorithm) == ours


@settings(max_examples=300)
@given(URLS, PARAMS, KEYS, ALGORITHMS, st.text(max_size=30), URLS, _NAMES | _TEXT, _TEXT)
def test_is_valid_agrees_with_sdk(
    url: str,
    params: list[tuple[str, str]],
    key: str,
    algorithm: Algorithm,
    random_signature: str,
    other_url: str,
    extra_name: str,
    extra_value: str,
) -> None:
    try:
        variants = _sdk_variants(url)
    except ValueError:  # the SDK raises on this URL; we answer False, and say why
        with pytest.raises(ValueError):
            url_variants(url)
        assert not is_valid(url, params, _sdk_sign(url, params, key, algorithm), key, algorithm)
        return
    ours = url_variants(url)
    assert ours[0] == urlparse(url).geturl()
    assert set(ours) == set(variants[1:])
    # (b) A signature over any form of the URL, or none at all: same verdict as the SDK.
    for signature in [*(_sdk_sign(v, params, key, algorithm) for v in variants), random_signature]:
        assert is_valid(url, params, signature, key, algorithm) == _sdk_validate(
            url, params, signature, key, algorithm
        )
    # The forms the SDK accepts are accepted (so (b) is not vacuously "both False").
    for variant in variants[1:]:
        assert is_valid(url, params, _sdk_sign(variant, params, key, algorithm), key, algorithm)

    # (c) Other params or another URL: rejected by both, unless the unseparated signing
    # string happens to be the same (a property of Twilio's scheme, not a bug: ("a", "bc")
    # and ("ab", "c") sign alike).
    signed = signing_string(variants[1], params)
    signature = compute_signature(variants[1], params, key, algorithm)
    tampered = [*params, (extra_name, extra_value)]
    for check_url, check_params in [(url, tampered), (other_url, params)]:
        try:
            candidates = {signing_string(v, check_params) for v in url_variants(check_url)}
        except ValueError:
            candidates = set()
        assume(signed not in candidates)
        assert not is_valid(check_url, check_params, signature, key, algorithm)
        assert not _sdk_validate(check_url, check_params, signature, key, algorithm)


_BODIES = st.text(max_size=40) | st.sampled_from([JSON_BODY, "", "{}", '{"e": "😀"}'])


@st.composite
def _json_requests(draw: st.DrawFn) -> tuple[str, str]:
    body = draw(_BODIES)
    url = draw(_urls()).split("#")[0]
    digest = draw(
        st.sampled_from([body_sha256(body), body_sha256(body).upper(), body_sha256(body + "x")])
        | st.text(max_size=3)
    )
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}bodySHA256={digest}", body


@settings(max_examples=300)
@given(_json_requests(), KEYS, ALGORITHMS, st.text(max_size=30), _BODIES)
def test_is_valid_json_agrees_with_sdk(
    request: tuple[str, str], key: str, algorithm: Algorithm, random_signature: str, other: str
) -> None:
    url, body = request
    try:
        variants = _sdk_variants(url)
    except ValueError:
        assert not is_valid_json(url, body, _sdk_sign(url, [], key, algorithm), key, algorithm)
        return
    has_hash = "bodySHA256" in parse_qs(urlparse(url).query)
    signatures = [*(_sdk_sign(v, [], key, algorithm) for v in variants), random_signature]
    for signature in signatures:
        ours = is_valid_json(url, body, signature, key, algorithm)
        assert ours == is_valid_json(url, body.encode(), signature, key, algorithm)
        if has_hash:
            assert ours == _sdk_validate(url, body, signature, key, algorithm)
        else:  # "bodySHA256=" is blank to parse_qs: the SDK then raises or ignores the body
            assert not ours
    if has_hash and parse_qs(urlparse(url).query)["bodySHA256"][0] == body_sha256(body):
        assert is_valid_json(url, body, signatures[1], key, algorithm)
        if body_sha256(other) != body_sha256(body):
            assert not is_valid_json(url, other, signatures[1], key, algorithm)
            assert not _sdk_validate(url, other, signatures[1], key, algorithm)
