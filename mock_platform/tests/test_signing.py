"""The signing helper in schemas.signing: canonical request, pinned vectors, requests integration."""
from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from schemas import signing

NONCE = "3f2a9c0e5b7d41e8a6c2f0b9d8e7a6c5"
TIMESTAMP = "1716800000000"


def test_pinned_vector_for_a_push_matches_the_documentation() -> None:
    text = signing.string_to_sign("post", "/api/v1/inspection-results/batch", "", TIMESTAMP, NONCE, b'{"records":[]}')
    assert text == (
        "POST\n/api/v1/inspection-results/batch\n\n1716800000000\n3f2a9c0e5b7d41e8a6c2f0b9d8e7a6c5\n"
        "1b8b4c0b6f6ad1d32565952720bc004eeb1f188f62045e4d5525ae2af8c78432"
    )
    assert signing.compute_signature("mock-secret", text) == "VvIpPKjSkZ/F1Rgu1uBo9Fr8dm5SuladBy12Da/GNbs="


def test_pinned_vector_for_a_query_matches_the_documentation() -> None:
    headers = signing.sign("GET", "http://platform.mock/api/v1/plans?limit=10&after=0", None,
                           "mock-access-key", "mock-secret", timestamp=TIMESTAMP, nonce=NONCE)
    assert headers == {
        "X-Ca-Key": "mock-access-key",
        "X-Ca-Timestamp": TIMESTAMP,
        "X-Ca-Nonce": NONCE,
        "X-Ca-Signature": "7G+f2tEfkhtdO8JkGJ7R/uXucoDbxBz0BEBc9kjW8eA=",
        "X-Ca-Signature-Method": "HmacSHA256",
    }


def test_signature_is_base64_hmac_sha256_of_the_string_to_sign() -> None:
    expected = base64.b64encode(hmac.new(b"k", b"text", hashlib.sha256).digest()).decode()
    assert signing.compute_signature("k", "text") == expected


def test_canonical_query_decodes_re_encodes_and_sorts() -> None:
    assert signing.canonical_query("b=2&a=%E4%B8%AD&a=1&c=") == "a=%E4%B8%AD&a=1&b=2&c="
    assert signing.canonical_query({"year": 2024, "q": "a b"}) == "q=a%20b&year=2024"
    assert signing.canonical_query([("x", "1"), ("x", "0")]) == "x=0&x=1"
    assert signing.canonical_query(None) == ""


def test_canonical_path_is_the_same_whether_or_not_the_client_encoded_it() -> None:
    assert signing.canonical_path("/api/v1/plans/a:b c") == "/api/v1/plans/a%3Ab%20c"
    assert signing.canonical_path("/api/v1/plans/a%3Ab%20c") == "/api/v1/plans/a%3Ab%20c"
    assert signing.canonical_path("") == "/"


def test_body_digest_of_no_body_is_the_digest_of_empty_bytes() -> None:
    assert signing.body_sha256(None) == hashlib.sha256(b"").hexdigest()
    assert signing.body_sha256("中") == hashlib.sha256("中".encode()).hexdigest()


@given(st.lists(st.tuples(st.text(max_size=8), st.text(max_size=8)), max_size=6), st.randoms())
def test_query_order_never_changes_the_canonical_query(pairs: list[tuple[str, str]], rnd) -> None:
    shuffled = list(pairs)
    rnd.shuffle(shuffled)
    assert signing.canonical_query(pairs) == signing.canonical_query(shuffled)


@given(st.binary(max_size=64), st.text(min_size=1, max_size=12))
def test_any_change_of_body_or_secret_changes_the_signature(body: bytes, secret: str) -> None:
    base = signing.string_to_sign("POST", "/p", "", TIMESTAMP, NONCE, body)
    other = signing.string_to_sign("POST", "/p", "", TIMESTAMP, NONCE, body + b"x")
    assert signing.compute_signature(secret, base) != signing.compute_signature(secret, other)
    assert signing.compute_signature(secret, base) != signing.compute_signature(secret + "x", base)


def test_platform_auth_signs_each_request_with_a_fresh_nonce() -> None:
    auth = signing.PlatformAuth("key", "secret", clock=lambda: 1716800000.0)
    first = auth(requests.Request("POST", "http://h/api/v1/plans/batch?a=1", json={"x": 1}).prepare())
    second = auth(requests.Request("POST", "http://h/api/v1/plans/batch?a=1", json={"x": 1}).prepare())
    assert first.headers["X-Ca-Timestamp"] == "1716800000000"
    assert first.headers["X-Ca-Nonce"] != second.headers["X-Ca-Nonce"]
    assert signing.NONCE_PATTERN.match(first.headers["X-Ca-Nonce"])
    text = signing.string_to_sign("POST", "/api/v1/plans/batch", "a=1", "1716800000000",
                                  first.headers["X-Ca-Nonce"], first.body)
    assert first.headers["X-Ca-Signature"] == signing.compute_signature("secret", text)


def test_platform_auth_sends_text_bodies_as_the_utf8_it_signed() -> None:
    prepared = signing.PlatformAuth("key", "secret")(requests.Request("POST", "http://h/p", data="抽查").prepare())
    assert prepared.body == "抽查".encode()
    assert prepared.headers["Content-Length"] == str(len("抽查".encode()))


def test_platform_auth_refuses_streamed_bodies() -> None:
    prepared = requests.Request("POST", "http://h/p", data=iter([b"a"])).prepare()
    with pytest.raises(TypeError):
        signing.PlatformAuth("key", "secret")(prepared)


def test_signatures_compare_in_constant_time_and_tolerate_garbage() -> None:
    assert signing.signatures_match("abc", "abc")
    assert not signing.signatures_match("abc", "abd")
    assert not signing.signatures_match("abc", "中文")
