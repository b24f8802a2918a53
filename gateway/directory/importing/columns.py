"""The columns an import file may have: Chinese or English headers, and how each cell is parsed."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Callable

from marshmallow import ValidationError

from schemas.directory import (
    ELIGIBILITY_REASONS,
    GENDERS,
    JURISDICTION_LEVELS,
    RISK_CLASSES,
    TARGET_STATUSES,
    TARGET_TYPES,
)
from schemas.ledger import CHANNEL_LABELS, REGISTERED_CHANNEL_CODES
from schemas.validators import normalise_uscc, validate_certificate_no, validate_phone


class CellError(ValueError):
    """A cell's value is wrong; the message says why, in Chinese."""


@dataclass(frozen=True)
class Column:
    key: str
    headers: tuple[str, ...]
    parse: Callable[[str], object]
    required: bool = False
    default: object = ""
    personal: bool = False  # never echo the value in a report
    stored: bool = True  # False: read from the file but not a column of the table (a reason code)


def _validated(validator: Callable[[str], object]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        try:
            result = validator(text)
        except ValidationError as exc:
            raise CellError(" ".join(exc.messages)) from None
        return result if isinstance(result, str) else text

    return parse


def text(max_len: int) -> Callable[[str], str]:
    """A text cell of at most ``max_len`` characters. Its characters are checked (``validate_text``)
    by ``importer.parse_row`` before any column parses a cell, so not again here."""
    def parse(value: str) -> str:
        if len(value) > max_len:
            raise CellError(f"长度不能超过 {max_len} 个字符。")
        return value

    return parse


def choice(mapping: dict[str, str], label: str) -> Callable[[str], str]:
    lookup = {k.lower(): v for k, v in mapping.items()}

    def parse(value: str) -> str:
        try:
            return lookup[value.lower()]
        except KeyError:
            options = "、".join(dict.fromkeys(k for k in mapping if not k.isascii()))
            raise CellError(f"{label}“{value}”无效，可选：{options}。") from None

    return parse


def boolean(value: str) -> bool:
    v = value.strip().lower()
    if v in ("是", "y", "yes", "true", "1", "在岗", "有效"):
        return True
    if v in ("否", "n", "no", "false", "0", "离岗", "无效", ""):
        return False
    raise CellError(f"“{value}”不是有效的是/否值。")


def non_negative_int(value: str) -> int:
    try:
        number = int(value or "0")
    except ValueError:
        raise CellError(f"“{value}”不是整数。") from None
    if number < 0:
        raise CellError("不能为负数。")
    return number


def iso_date(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.replace("/", "-").replace(".", "-"))
    except ValueError:
        raise CellError(f"“{value}”不是有效日期（格式 YYYY-MM-DD）。") from None


def licence_list(value: str) -> list[str]:
    for sep in ("；", ";", "，", ",", "、"):
        value = value.replace(sep, "|")
    parts = [p.strip() for p in value.split("|") if p.strip()]
    for p in parts:
        text(100)(p)
    return parts


def _bilingual(pairs: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """{code: (Chinese labels...)} -> {label or code: code}."""
    out: dict[str, str] = {}
    for code, labels in pairs.items():
        out[code] = code
        for label in labels:
            out[label] = code
    return out


TYPE_LABELS = _bilingual({
    "enterprise": ("企业",),
    "individual_business": ("个体工商户", "个体户"),
    "farmer_cooperative": ("农民专业合作社", "合作社"),
    "other_unit": ("其他单位", "其他"),
})
LEVEL_LABELS = _bilingual({"county": ("县级", "县"), "city": ("市级", "市"), "province": ("省级", "省"), "national": ("国家级", "国家")})
STATUS_LABELS = _bilingual({
    "operating": ("在营", "存续", "开业"),
    "closed": ("停业", "关闭"),
    "liquidating": ("清算", "正在清算"),
    "deregistered": ("注销", "已注销"),
    "revoked": ("吊销", "已吊销"),
    "cancelled": ("撤销", "已撤销"),
    "moved_out": ("迁出", "已迁出"),
})
GENDER_LABELS = _bilingual({"male": ("男",), "female": ("女",)})
REASON_LABELS = _bilingual({code: (label,) for code, label in ELIGIBILITY_REASONS.items()})
RISK_LABELS = {**{c: c for c in RISK_CLASSES}, **{f"{c}类": c for c in RISK_CLASSES}}

assert set(TYPE_LABELS.values()) == set(TARGET_TYPES)
assert set(LEVEL_LABELS.values()) == set(JURISDICTION_LEVELS)
assert set(STATUS_LABELS.values()) == set(TARGET_STATUSES)
assert set(GENDER_LABELS.values()) == set(GENDERS)

TARGET_COLUMNS = (
    Column("uscc", ("统一社会信用代码", "信用代码", "uscc"), _validated(normalise_uscc), required=True),
    Column("name", ("名称", "企业名称", "检查对象名称", "name"), text(200), required=True),
    Column("type", ("主体类型", "类型", "type"), choice(TYPE_LABELS, "主体类型"), required=True),
    Column("township", ("乡镇", "所属乡镇", "乡镇（街道）", "township"), text(50)),
    Column("level", ("监管层级", "层级", "level"), choice(LEVEL_LABELS, "监管层级"), default="county"),
    Column("address", ("地址", "住所", "经营场所", "address"), text(300)),
    Column("legal_representative", ("法定代表人", "负责人", "legal_representative"), text(50)),
    Column("business_scope", ("经营范围", "business_scope"), text(4000)),
    Column("licences", ("许可证", "持有许可", "许可证件", "licences"), licence_list, default=[]),
    Column("status", ("经营状态", "登记状态", "status"), choice(STATUS_LABELS, "经营状态"), default="operating"),
    Column("risk_class", ("信用风险分类", "风险等级", "risk_class"), choice(RISK_LABELS, "信用风险分类"), default="B"),
    Column("abnormal_list", ("经营异常名录", "列入经营异常名录", "abnormal_list"), boolean, default=False),
    Column("serious_violation_list", ("严重违法失信名单", "列入严重违法失信名单", "serious_violation_list"), boolean, default=False),
    Column("complaint_count", ("投诉举报次数", "投诉举报数", "complaint_count"), non_negative_int, default=0),
    # Required on a row that changes an existing target's eligibility fields (ELIGIBILITY_FIELDS).
    Column("reason_code", ("变更原因", "原因代码", "reason_code"), choice(REASON_LABELS, "变更原因"), default=None,
           stored=False),
)

INSPECTOR_COLUMNS = (
    Column("department_code", ("部门", "所属部门", "部门编码", "department", "department_code"), text(200), required=True),
    Column("name", ("姓名", "name"), text(50), required=True),
    Column("gender", ("性别", "gender"), choice(GENDER_LABELS, "性别"), required=True),
    Column("unit", ("单位", "所在单位", "unit"), text(200)),
    Column("position", ("职务", "position"), text(100)),
    Column("expertise", ("专业特长", "专长", "专业", "专业领域", "expertise"), text(200)),
    Column("certificate_no", ("执法证号", "执法证件号", "certificate_no"), _validated(validate_certificate_no), required=True, personal=True),
    Column("certificate_valid_until", ("证件有效期至", "执法证有效期至", "证件有效期", "执法证有效期", "有效期至", "certificate_valid_until"), iso_date, default=None),
    Column("phone", ("联系电话", "电话", "phone"), _validated(validate_phone), personal=True),
    Column("active", ("在岗", "是否在岗", "active"), boolean, default=True),
)

# Higher-level inspections (article 15): only authorities above the county exclude targets.
HIGHER_LEVEL_LABELS = _bilingual({"city": ("市级", "市"), "province": ("省级", "省"), "national": ("国家级", "国家")})

INSPECTION_COLUMNS = (
    Column("uscc", ("统一社会信用代码", "信用代码", "uscc"), _validated(normalise_uscc), required=True),
    Column("authority", ("检查机关", "实施机关", "authority"), text(200), required=True),
    Column("level", ("检查机关层级", "层级", "level"), choice(HIGHER_LEVEL_LABELS, "检查机关层级"), required=True),
    Column("inspected_on", ("检查日期", "检查完成日期", "inspected_on"), iso_date, required=True),
    Column("department_code", ("对口部门", "对应部门", "department", "department_code"), text(200)),
    Column("matter_code", ("抽查事项", "事项编码", "matter", "matter_code"), text(64)),
    Column("reference", ("检查编号", "任务编号", "reference"), text(100)),
)

# Inspections a department registers outside the draw (gateway.ledger, issue 16).
CHANNEL_IMPORT_LABELS = _bilingual({code: (CHANNEL_LABELS[code],) for code in REGISTERED_CHANNEL_CODES})

REGISTRATION_COLUMNS = (
    Column("uscc", ("统一社会信用代码", "信用代码", "uscc"), _validated(normalise_uscc), required=True),
    Column("department_code", ("检查部门", "部门", "department", "department_code"), text(200), required=True),
    Column("channel", ("检查渠道", "检查类别", "channel"), choice(CHANNEL_IMPORT_LABELS, "检查渠道"), required=True),
    Column("legal_reason_code", ("法定事由代码", "事由代码", "legal_reason_code"), text(64), required=True),
    Column("legal_basis", ("法律依据", "检查依据", "legal_basis"), text(1000)),
    Column("inspected_on", ("检查日期", "inspected_on"), iso_date, required=True),
    Column("reference", ("检查编号", "文书编号", "reference"), text(100)),
    Column("over_cap_reason", ("超过上限理由", "超限理由", "over_cap_reason"), text(1000)),
)


def accepted_headers(columns: tuple[Column, ...]) -> str:
    """Each column's headers, the required ones marked: what an unknown column could have meant."""
    return "；".join(("*" if c.required else "") + "/".join(c.headers) for c in columns)


def map_headers(header_row: list[str], columns: tuple[Column, ...]) -> tuple[dict[int, Column], list[str]]:
    """Match header cells to columns. Returns {cell index: column} and the problems found."""
    by_header = {h.lower(): c for c in columns for h in c.headers}
    mapping: dict[int, Column] = {}
    problems: list[str] = []
    seen: dict[str, int] = {}
    for index, cell in enumerate(header_row):
        name = cell.strip().lstrip("\ufeff").lower()
        if not name:
            continue
        column = by_header.get(name)
        if column is None:
            problems.append(f"未知列“{cell}”。可用的列：{accepted_headers(columns)}。")
            continue
        if column.key in seen:
            problems.append(f"列“{cell}”与第 {seen[column.key] + 1} 列重复。")
            continue
        seen[column.key] = index
        mapping[index] = column
    for column in columns:
        if column.required and column.key not in seen:
            problems.append(f"缺少必需的列“{column.headers[0]}”（或 {column.headers[-1]}）。")
    return mapping, problems
