"""Defence in depth for logs: phone-like and certificate-like numbers never reach a log line.

The code does not log personal data on purpose; this catches what slips through anyway (an
exception message quoting SQL parameters, a library's debug line). Installed once per process as a
log-record factory, so it covers every logger, handler and formatter, including tracebacks.
"""
from __future__ import annotations

import logging
import re
import traceback

REDACTED = "[redacted]"

_PATTERNS = (
    # mobile numbers, with an optional +86 / 86 prefix
    re.compile(r"(?<![0-9A-Za-z])(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?![0-9A-Za-z])"),
    # landlines with an area code: 0391-1234567
    re.compile(r"(?<![0-9A-Za-z])0\d{2,3}-\d{7,8}(?![0-9A-Za-z])"),
    # resident identity card numbers (18 characters, the last may be X)
    re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])"),
    # certificate-like: any stand-alone run of 8 or more digits (law-enforcement certificates,
    # badge numbers); over-redacts the odd all-digit code, which is the safe side for a log
    re.compile(r"(?<![0-9A-Za-z])\d{8,}(?![0-9A-Za-z])"),
)


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: keep what we can
        message = str(record.msg)
    record.msg = redact(message)
    record.args = ()
    if record.exc_info and not record.exc_text:
        record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


class RedactingFilter(logging.Filter):
    """The same redaction as a filter, for handlers configured outside the gateway."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def install_log_redaction() -> None:
    """Wrap the process's log-record factory (idempotent)."""
    current = logging.getLogRecordFactory()
    if getattr(current, "_shuangsui_redacting", False):
        return

    def factory(*args, **kwargs):
        return redact_record(current(*args, **kwargs))

    factory._shuangsui_redacting = True
    logging.setLogRecordFactory(factory)
