"""Masking of inspectors' personal data in listings (articles 5 and 25)."""
from __future__ import annotations


def mask_phone(phone: str) -> str:
    if not phone:
        return ""
    return phone[:3] + "*" * max(len(phone) - 7, 0) + phone[-4:] if len(phone) > 7 else "*" * len(phone)


def mask_certificate(number: str) -> str:
    if not number:
        return ""
    return "*" * max(len(number) - 4, 0) + number[-4:]
