"""Checking a request's signature: each way to fail has its own 401 code and Chinese message."""
from __future__ import annotations

from typing import Callable, Mapping

from mock_platform.http import ApiError, Request
from schemas import signing


def _refuse(code: str, message: str, **details: object) -> ApiError:
    return ApiError(401, code, message, **details)


def authenticate(
    request: Request,
    secrets: Mapping[str, str],
    use_nonce: Callable[[str, str, int], bool],
    now_ms: int,
    max_skew_seconds: int,
) -> str:
    """The access key of a correctly signed request, or :class:`ApiError` 401 saying why not.

    Checks, in order: headers present, headers well formed, signature method, key known, clock
    skew, signature, nonce not used before (a nonce is only spent by a correctly signed request).
    ``use_nonce(key, nonce, timestamp_ms)`` records the nonce and says whether it was new.
    """
    missing = [name for name in signing.REQUIRED_HEADERS if not request.header(name)]
    if missing:
        raise _refuse("auth_headers_missing", "缺少认证请求头：" + "、".join(missing), missing=missing)
    key = request.header(signing.ACCESS_KEY_HEADER) or ""
    timestamp = request.header(signing.TIMESTAMP_HEADER) or ""
    nonce = request.header(signing.NONCE_HEADER) or ""
    signature = request.header(signing.SIGNATURE_HEADER) or ""
    if not signing.TIMESTAMP_PATTERN.match(timestamp):
        raise _refuse("auth_header_invalid", f"请求头 {signing.TIMESTAMP_HEADER} 应为毫秒级 Unix 时间戳",
                      header=signing.TIMESTAMP_HEADER)
    if not signing.NONCE_PATTERN.match(nonce):
        raise _refuse("auth_header_invalid", f"请求头 {signing.NONCE_HEADER} 应为 8 至 64 位字母、数字、下划线或连字符",
                      header=signing.NONCE_HEADER)
    method = request.header(signing.SIGNATURE_METHOD_HEADER)
    if method is not None and method != signing.SIGNATURE_METHOD:
        raise _refuse("unsupported_signature_method", f"不支持的签名算法“{method}”，仅支持 {signing.SIGNATURE_METHOD}")
    secret = secrets.get(key)
    if secret is None:
        raise _refuse("access_key_unknown", "访问密钥（AccessKey）不存在或已停用")
    skew_ms = abs(now_ms - int(timestamp))
    if skew_ms > max_skew_seconds * 1000:
        raise _refuse(
            "timestamp_skew",
            f"请求时间戳与平台时间相差 {-(-skew_ms // 1000)} 秒，超过允许的 {max_skew_seconds} 秒，请校准时钟",
            server_time_ms=now_ms, max_skew_seconds=max_skew_seconds,
        )
    text = signing.string_to_sign(request.method, request.path, request.query, timestamp, nonce, request.body)
    if not signing.signatures_match(signing.compute_signature(secret, text), signature):
        raise _refuse("signature_mismatch", "签名校验失败，请检查签名串的构造和密钥", string_to_sign=text)
    if not use_nonce(key, nonce, int(timestamp)):
        raise _refuse("nonce_reused", "随机数（nonce）已被使用，请勿重放请求；每次请求（包括重试）须重新签名")
    return key
