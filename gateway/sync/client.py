"""The provincial platform over HTTP (docs/platform-api.md): signed batch pushes, signed reads of
our own records, and the public read of a target's inspections.

Every request is signed anew by :class:`schemas.signing.PlatformAuth` (fresh timestamp and nonce),
so a resend is a new request; nothing here retries on its own. What to do after a failure is the
caller's decision (the worker keeps retries in the outbox row), so :meth:`PlatformClient.push`
never raises for network trouble: it returns a :class:`PushAnswer` saying what happened.
"""
from __future__ import annotations

import email.utils
import json
import time
from dataclasses import dataclass, field
from datetime import timezone
from typing import Any, Iterator

import orjson
import requests

from gateway.config import Settings
from schemas.signing import PlatformAuth

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotency-Replayed"

# What a push can come to.
OK = "ok"                  # HTTP 200: one outcome per record in ``body["results"]``
TRANSIENT = "transient"    # timeout, dropped connection, 429, 5xx, 401: retry later, same batch, same key
TOO_LARGE = "too_large"    # 413: send fewer records per batch
KEY_REUSED = "key_reused"  # 422 idempotency_key_reused: the key must change
REFUSED = "refused"        # any other 4xx about the whole batch: nothing was processed


class PlatformNotConfigured(RuntimeError):
    """No platform URL or credentials in the settings."""


@dataclass
class PushAnswer:
    status: str
    http_status: int | None = None
    code: str = ""
    message: str = ""
    body: dict[str, Any] = field(default_factory=dict)
    retry_after: float | None = None
    replayed: bool = False

    @property
    def outcome_label(self) -> str:
        """Short label kept in the row's ``last_outcome`` for a failed attempt."""
        if self.code in ("timeout", "connection_error"):
            return self.code
        if self.http_status == 429:
            return "rate_limited"
        if self.http_status is not None:
            return f"http_{self.http_status}"
        return self.code or self.status

    def describe(self) -> str:
        """A Chinese line for the row's ``last_error`` and the log."""
        if self.code == "timeout":
            return f"请求超时：{self.message}"
        if self.code == "connection_error":
            return f"连接中断：{self.message}"
        head = f"平台返回 HTTP {self.http_status}" if self.http_status is not None else "平台无应答"
        detail = f"（{self.code}）{self.message}" if self.code or self.message else ""
        return head + detail


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        data = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        try:  # what orjson refuses but the standard library reads (NaN, integers past 64 bits)
            data = response.json()
        except ValueError:
            return {}
    return data if isinstance(data, dict) else {}


class PlatformClient:
    """A signed session on one platform."""

    def __init__(self, base_url: str, access_key: str, secret: str, *,
                 connect_timeout: float = 3.0, read_timeout: float = 10.0,
                 session: requests.Session | None = None):
        if not base_url or not access_key or not secret:
            raise PlatformNotConfigured(
                "未配置省级平台地址或访问密钥：请设置 SHUANGSUI_PLATFORM_URL、SHUANGSUI_PLATFORM_ACCESS_KEY 和 "
                "SHUANGSUI_PLATFORM_SECRET（或实例目录 shuangsui.toml 中的 platform_url 等配置项）。"
            )
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self.session = session or environment_session(self.base_url)
        self.auth = PlatformAuth(access_key, secret)
        self.access_key = access_key

    @classmethod
    def from_settings(cls, settings: Settings, session: requests.Session | None = None) -> "PlatformClient":
        return cls(settings.platform_url, settings.platform_access_key, settings.platform_secret,
                   connect_timeout=settings.sync_connect_timeout, read_timeout=settings.sync_read_timeout,
                   session=session)

    def url(self, path: str) -> str:
        return self.base_url + path

    def close(self) -> None:
        self.session.close()

    # --- pushing --------------------------------------------------------------------------------

    def push(self, segment: str, body: bytes, idempotency_key: str) -> PushAnswer:
        """POST one batch (``body`` is the exact JSON bytes) with its Idempotency-Key.

        The request is prepared here with the session's headers and cookies, then sent by the
        session: its ``post`` would also merge its hooks, parameters and settings into every request,
        a third of a push's CPU."""
        request = requests.PreparedRequest()
        request.prepare(method="POST", url=self.url(f"/api/v1/{segment}/batch"), data=body, auth=self.auth,
                        cookies=self.session.cookies, headers={
                            **self.session.headers, "Content-Type": "application/json; charset=utf-8",
                            IDEMPOTENCY_HEADER: idempotency_key})
        try:
            response = self.session.send(request, timeout=self.timeout)
        except requests.Timeout as exc:
            return PushAnswer(TRANSIENT, code="timeout", message=type(exc).__name__)
        except requests.ConnectionError as exc:
            return PushAnswer(TRANSIENT, code="connection_error", message=type(exc).__name__)
        except requests.RequestException as exc:
            return PushAnswer(TRANSIENT, code="connection_error", message=f"{type(exc).__name__}: {exc}")
        return classify(response)

    # --- reading our own records (signed) ---------------------------------------------------------

    def list_records(self, segment: str, page_size: int = 1000) -> Iterator[dict[str, Any]]:
        """Every record of ``segment`` the platform holds for us, oldest first."""
        after: int | None = 0
        while after is not None:
            response = self._get(f"/api/v1/{segment}", params={"after": str(after), "limit": str(page_size)})
            page = _json(response)
            yield from page.get("items", [])
            after = page.get("next_after")

    def get_record(self, segment: str, record_id: str) -> dict[str, Any] | None:
        response = self._get(f"/api/v1/{segment}/{record_id}", allow=(404,))
        return None if response.status_code == 404 else _json(response)

    def _get(self, path: str, params: dict[str, str] | None = None, allow: tuple[int, ...] = (),
             attempts: int = 8, signed: bool = True) -> requests.Response:
        """A GET, retried (re-signed each time) on network trouble, 429 and 5xx a bounded number of times."""
        delay = 0.5
        last: str = ""
        for attempt in range(attempts):
            try:
                response = self.session.get(self.url(path), params=params, auth=self.auth if signed else None,
                                            timeout=self.timeout)
            except requests.RequestException as exc:
                last = f"{type(exc).__name__}"
            else:
                if response.status_code == 200 or response.status_code in allow:
                    return response
                body = _json(response)
                last = f"HTTP {response.status_code} {body.get('code', '')} {body.get('message', '')}".strip()
                if response.status_code not in (429, 500, 502, 503, 504):
                    raise PlatformReadError(response.status_code, body.get("code", ""), last)
                wait = parse_retry_after(response.headers.get("Retry-After"))
                if wait is not None:
                    time.sleep(min(wait, 30.0))
                    continue
            if attempt + 1 < attempts:
                time.sleep(delay)
                delay = min(delay * 2, 8.0)
        raise PlatformReadError(None, "unavailable", f"平台读取失败（已尝试 {attempts} 次）：{last}")

    # --- public reads (no signature) --------------------------------------------------------------

    def target_inspections(self, uscc: str, year: int | None = None) -> dict[str, Any]:
        params = {"year": str(year)} if year is not None else None
        return _json(self._get(f"/api/v1/public/entities/{uscc}/inspections", params=params, signed=False))


class PlatformReadError(RuntimeError):
    def __init__(self, http_status: int | None, code: str, message: str):
        super().__init__(message)
        self.http_status = http_status
        self.code = code
        self.message = message


def classify(response: requests.Response) -> PushAnswer:
    """What a push's HTTP answer means for the batch."""
    body = _json(response)
    status = response.status_code
    code = str(body.get("code", ""))
    message = str(body.get("message", ""))
    replayed = response.headers.get(REPLAYED_HEADER, "").lower() == "true"
    if status == 200:
        results = body.get("results")
        if not isinstance(results, list):
            return PushAnswer(TRANSIENT, status, "invalid_answer", "平台应答缺少逐条结果（results）", body)
        return PushAnswer(OK, status, body=body, replayed=replayed)
    if status == 429 or status >= 500 or status in (401, 408):
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if retry_after is None and isinstance(body.get("retry_after"), (int, float)):
            retry_after = float(body["retry_after"])
        return PushAnswer(TRANSIENT, status, code, message, body, retry_after=retry_after)
    if status == 413:
        return PushAnswer(TOO_LARGE, status, code, message, body)
    if status == 422 and code == "idempotency_key_reused":
        return PushAnswer(KEY_REUSED, status, code, message, body)
    return PushAnswer(REFUSED, status, code, message, body)


def environment_session(base_url: str) -> requests.Session:
    """A session for ``base_url`` with the environment's proxy and CA bundle settings (``HTTPS_PROXY``,
    ``NO_PROXY``, ``REQUESTS_CA_BUNDLE``...) read once, here: by default requests reads and scans the
    whole environment again at every request, a quarter of a push's CPU."""
    session = requests.Session()
    settings = session.merge_environment_settings(base_url, {}, None, None, None)
    session.proxies.update(settings["proxies"])
    session.verify = settings["verify"]
    session.trust_env = False
    return session


def batch_body(records: list[dict[str, Any]]) -> bytes:
    """The exact bytes of a batch: the same records always give the same bytes.

    Sorted keys, no spaces, UTF-8 as is: orjson writes exactly what ``json.dumps(ensure_ascii=False,
    sort_keys=True, separators=(",", ":"))`` does for the records' values (strings, 64-bit integers,
    booleans, null; no record field is a float, where the two spell some exponents differently),
    ten times faster; the standard library for what orjson refuses (integers past 64 bits)."""
    try:
        return orjson.dumps({"records": records}, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return json.dumps({"records": records}, ensure_ascii=False, sort_keys=True,
                          separators=(",", ":")).encode("utf-8")
