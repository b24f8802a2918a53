"""The publication check: free text that the public will read carries no personal data.

Result remarks and correction reasons, dispositions' descriptions, numbers, receiving authorities
and correction reasons, plans' titles, descriptions and amendment reasons are published verbatim.
Before any of them is saved and again before it is published, this check refuses mainland phone
numbers (mobile and landline), resident identity numbers (18 characters with a valid check digit)
and any inspector's certificate number or name from the directory (article 25; inspectors appear
in public only as their departments). The message names the field and the kind of data found,
never the data itself nor whose it is.
"""
from __future__ import annotations

import re
from typing import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.cn import ric

from gateway.directory.models import Inspector
from gateway.errors import Invalid

# Digits run into letters in codes (USCCs, decision numbers): only a free-standing number counts.
_EDGE_BEFORE = r"(?<![0-9A-Za-z])"
_EDGE_AFTER = r"(?![0-9A-Za-z])"
_MOBILE = re.compile(_EDGE_BEFORE + r"(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}" + _EDGE_AFTER)
_LANDLINE = re.compile(_EDGE_BEFORE + r"(?:0\d{2,3}[ -]?|[(（]0\d{2,3}[)）] ?)[1-9]\d{6,7}" + _EDGE_AFTER)
_RESIDENT_ID = re.compile(_EDGE_BEFORE + r"\d{17}[\dXx]" + _EDGE_AFTER)
_CODE_TOKEN = re.compile(r"[0-9A-Za-z-]{6,40}")

PHONE_MESSAGE = "含有电话号码：公示内容不得包含个人联系方式，请删除后再提交。"
RESIDENT_ID_MESSAGE = "含有居民身份证号码：公示内容不得包含，请删除后再提交。"
CERTIFICATE_MESSAGE = "含有执法检查人员的执法证号：公示内容不得包含，请删除后再提交。"
NAME_MESSAGE = "含有执法检查人员的姓名：执法检查人员只以所属部门公示，请删除后再提交。"


def personal_data_problems(session: Session, fields: Mapping[str, str | None]) -> dict[str, list[str]]:
    """{field: [Chinese messages]} for each field whose text would publish personal data."""
    texts = {name: text for name, text in fields.items() if text and text.strip()}
    if not texts:
        return {}
    names, certificates = _directory(session)
    problems: dict[str, list[str]] = {}
    for field, text in texts.items():
        found = []
        if _MOBILE.search(text) or _LANDLINE.search(text):
            found.append(PHONE_MESSAGE)
        if any(ric.is_valid(m.group()) for m in _RESIDENT_ID.finditer(text)):
            found.append(RESIDENT_ID_MESSAGE)
        tokens = _CODE_TOKEN.findall(text)
        tokens += [part for token in tokens for part in token.split("-")]
        if any(token.upper() in certificates for token in tokens):
            found.append(CERTIFICATE_MESSAGE)
        if any(name in text for name in names):
            found.append(NAME_MESSAGE)
        if found:
            problems[field] = found
    return problems


def check_public_text(session: Session, fields: Mapping[str, str | None]) -> None:
    """Refuse publication (422 naming each field) when a public text carries personal data."""
    problems = personal_data_problems(session, fields)
    if problems:
        raise Invalid("personal_data_in_public_text",
                      "公示内容含有个人信息（电话号码、身份证号码或执法检查人员的姓名、证号），未公示。", problems)


def _directory(session: Session) -> tuple[set[str], set[str]]:
    """Every inspector's name (two characters or more) and certificate number, active or not."""
    names: set[str] = set()
    certificates: set[str] = set()
    for name, certificate in session.execute(select(Inspector.name, Inspector.certificate_no)):
        if name and len(name.strip()) >= 2:
            names.add(name.strip())
        if certificate:
            certificates.add(certificate.upper())
    return names, certificates
