"""Request signing for the provincial platform API (HMAC-SHA256 over a canonical request).

Every authenticated request carries four headers::

    X-Ca-Key        the access key
    X-Ca-Timestamp  Unix time in milliseconds
    X-Ca-Nonce      a fresh random string, 8 to 64 characters of [A-Za-z0-9_-]
    X-Ca-Signature  base64(HMAC-SHA256(secret, string_to_sign))

and optionally ``X-Ca-Signature-Method: HmacSHA256``. The string to sign is six lines joined by
``\\n`` (no trailing newline)::

    METHOD            upper case, e.g. POST
    canonical path    the percent-decoded path re-encoded with RFC 3986 rules ("/" kept)
    canonical query   decoded (name, value) pairs, each re-encoded, sorted, joined as a=1&b=2
    timestamp         exactly the X-Ca-Timestamp value
    nonce             exactly the X-Ca-Nonce value
    body digest       lower-case hex SHA-256 of the raw body bytes (of b"" when there is no body)

Use :class:`PlatformAuth` with ``requests`` or :func:`sign` to get the headers for any client.
Sign every attempt anew: a retried request needs a new nonce and timestamp, so retry at the
application level rather than with urllib3's ``Retry`` (which resends the same headers).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from typing import Callable, Iterable, Mapping
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import requests

ACCESS_KEY_HEADER = "X-Ca-Key"
TIMESTAMP_HEADER = "X-Ca-Timestamp"
NONCE_HEADER = "X-Ca-Nonce"
SIGNATURE_HEADER = "X-Ca-Signature"
SIGNATURE_METHOD_HEADER = "X-Ca-Signature-Method"
SIGNATURE_METHOD = "HmacSHA256"
REQUIRED_HEADERS = (ACCESS_KEY_HEADER, TIMESTAMP_HEADER, NONCE_HEADER, SIGNATURE_HEADER)

NONCE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
TIMESTAMP_PATTERN = re.compile(r"^[0-9]{10,16}$")

QueryInput = str | Mapping[str, str] | Iterable[tuple[str, str]] | None


def _encode(text: str) -> str:
    """RFC 3986 percent-encoding: only unreserved characters stay as they are."""
    return quote(text, safe="-_.~")


def canonical_path(path: str) -> str:
    """The path as signed: percent-decoded once, then re-encoded with ``/`` kept."""
    return quote(unquote(path or "/"), safe="/-_.~")


def canonical_query(query: QueryInput) -> str:
    """The query as signed: decoded pairs, each part re-encoded, sorted, joined with ``&``.

    ``query`` is a raw query string (``"b=2&a=1"``), a mapping, or an iterable of pairs.
    Blank values are kept (``"a="``).
    """
    if query is None:
        pairs: list[tuple[str, str]] = []
    elif isinstance(query, str):
        pairs = parse_qsl(query, keep_blank_values=True)
    elif isinstance(query, Mapping):
        pairs = [(str(k), str(v)) for k, v in query.items()]
    else:
        pairs = [(str(k), str(v)) for k, v in query]
    encoded = sorted((_encode(k), _encode(v)) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def body_sha256(body: bytes | str | None) -> str:
    """Lower-case hex SHA-256 of the body (UTF-8 for text; the empty string's digest for none)."""
    if body is None:
        body = b""
    elif isinstance(body, str):
        body = body.encode("utf-8")
    return hashlib.sha256(body).hexdigest()


def string_to_sign(
    method: str, path: str, query: QueryInput, timestamp: str, nonce: str, body: bytes | str | None
) -> str:
    """The canonical request that the signature covers (see the module docstring)."""
    return "\n".join([
        method.upper(),
        canonical_path(path),
        canonical_query(query),
        timestamp,
        nonce,
        body_sha256(body),
    ])


def compute_signature(secret: str, text: str) -> str:
    """base64 of HMAC-SHA256 over ``text`` with ``secret`` (both UTF-8)."""
    digest = hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signatures_match(expected: str, given: str) -> bool:
    """Constant-time comparison of two signatures."""
    return hmac.compare_digest(expected.encode("ascii", "replace"), given.encode("ascii", "replace"))


def new_nonce() -> str:
    """A fresh 32-character nonce."""
    return secrets.token_hex(16)


def timestamp_ms(clock: Callable[[], float] = time.time) -> str:
    """The current Unix time in milliseconds, as sent in ``X-Ca-Timestamp``."""
    return str(int(clock() * 1000))


def sign(
    method: str,
    url: str,
    body: bytes | str | None,
    access_key: str,
    secret: str,
    *,
    timestamp: str | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The authentication headers for one request.

    ``url`` is either absolute (``http://host/api/v1/plans?x=1``) or a path with an optional query
    (``/api/v1/plans?x=1``). ``timestamp`` and ``nonce`` default to now and a fresh nonce; pass
    them only to reproduce a signature.
    """
    parts = urlsplit(url)
    timestamp = timestamp if timestamp is not None else timestamp_ms()
    nonce = nonce if nonce is not None else new_nonce()
    text = string_to_sign(method, parts.path, parts.query, timestamp, nonce, body)
    return {
        ACCESS_KEY_HEADER: access_key,
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: compute_signature(secret, text),
        SIGNATURE_METHOD_HEADER: SIGNATURE_METHOD,
    }


class PlatformAuth(requests.auth.AuthBase):
    """``requests`` authentication that signs every request (and every retry) anew.

    >>> session = requests.Session()
    >>> session.auth = PlatformAuth("my-access-key", "my-secret")

    A text body is sent as UTF-8 so that what is signed is exactly what goes on the wire.
    Streamed bodies (files, generators) cannot be signed and raise ``TypeError``.
    """

    def __init__(self, access_key: str, secret: str, clock: Callable[[], float] = time.time):
        self.access_key = access_key
        self.secret = secret
        self.clock = clock

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body
        if isinstance(body, str):
            body = body.encode("utf-8")
            request.body = body
            request.headers["Content-Length"] = str(len(body))
        elif body is not None and not isinstance(body, bytes):
            raise TypeError("PlatformAuth can only sign bytes or text bodies, not streams")
        request.headers.update(sign(
            request.method or "GET",
            request.url or "/",
            body,
            self.access_key,
            self.secret,
            timestamp=timestamp_ms(self.clock),
        ))
        return request

    def __repr__(self) -> str:
        return f"PlatformAuth(access_key={self.access_key!r})"
