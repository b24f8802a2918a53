"""A department plugin's contributions as data: ``content.toml`` in its package, read by one loader.

The file holds a ``[department]`` table, ``[[matters]]`` (each with ``[matters.criteria]``,
``[[matters.check_items]]`` and, outside the Matter's own fields, an optional ``guide_text``) and
``[[check_items]]``, the items the department brings to other departments' matters (each naming its
``matter_code``). Every key is a field of :class:`Department`, :class:`Matter`,
:class:`CheckItem` or :class:`TargetCriteria` (lists become tuples), so a field added to one of
them can be written in the file without touching the loader. A matter's ``department_code`` is
the file's department unless given.

:class:`PluginContent` also implements the hooks that hand the data out, so that a plugin's
``plugin.py`` holds only the hooks where the plugin really differs (datasette's and pluggy's
eggsample's shape)::

    CONTENT = load_content(__package__)
    gateway_department, gateway_matters, gateway_check_items, gateway_guide_text = CONTENT.hooks()
"""
from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from typing import Any, Callable, Mapping

from gateway.plugins.contributions import CheckItem, Department, Matter, items_for
from gateway.plugins.hookspecs import hookimpl
from gateway.plugins.manager import PluginError

FILE_NAME = "content.toml"


class ContentError(PluginError):
    """A plugin's content file is unreadable or names a field wrongly; the message names the file
    and the field."""


@dataclass(frozen=True)
class PluginContent:
    """What a plugin's content file contributes, as the frozen contribution types."""

    department: Department | None
    matters: tuple[Matter, ...] = ()
    # the items this department brings to other departments' matters
    check_items: tuple[CheckItem, ...] = ()
    # matter code -> guide text of the matter's own version
    guide_texts: Mapping[str, str] = dataclasses.field(default_factory=dict, hash=False)

    def matter(self, code: str) -> Matter:
        for matter in self.matters:
            if matter.code == code:
                return matter
        raise KeyError(f"no matter {code!r} in this content")

    def hooks(self) -> tuple[Callable[..., Any], ...]:
        """The hooks handing the content out, to be bound to a plugin module's names."""
        return self.gateway_department, self.gateway_matters, self.gateway_check_items, self.gateway_guide_text

    @hookimpl
    def gateway_department(self) -> Department | None:
        return self.department

    @hookimpl
    def gateway_matters(self) -> list[Matter]:
        return list(self.matters)

    @hookimpl
    def gateway_check_items(self) -> list[CheckItem]:
        return list(self.check_items)

    @hookimpl
    def gateway_guide_text(self, matter_code: str) -> str | None:
        return self.guide_texts.get(matter_code)


def load_content(package: str, file_name: str = FILE_NAME) -> PluginContent:
    """The contributions in ``file_name`` of ``package``; ContentError naming the file and the
    field when the file is not valid TOML or a value does not fit."""
    where = f"{package.replace('.', '/')}/{file_name}"
    try:
        data = tomllib.loads(resources.files(package).joinpath(file_name).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ContentError(f"插件内容文件 {where} 无法读取：{exc}") from exc
    _refuse_unknown(data, ("department", "matters", "check_items"), where)
    department = _build(Department, data["department"], f"{where}：department") if "department" in data else None
    code = department.code if department else ""
    matters, guide_texts = [], {}
    for n, table in enumerate(_tables(data.get("matters", []), f"{where}：matters")):
        at = f"{where}：matters[{n}]"
        text = table.pop("guide_text", None)
        matter = _build(Matter, {"department_code": code, **table}, at)
        if text is not None:
            guide_texts[matter.code] = _check(text, str, f"{at}.guide_text")
        matters.append(matter)
    return PluginContent(department, tuple(matters), _cooperating(data, code, where), guide_texts)


def _cooperating(data: Mapping[str, Any], department_code: str, where: str) -> tuple[CheckItem, ...]:
    """The cooperating items, each matter's in the file's order (their position is their order)."""
    by_matter: dict[str, list[CheckItem]] = {}
    for n, table in enumerate(_tables(data.get("check_items", []), f"{where}：check_items")):
        item = _build(CheckItem, table, f"{where}：check_items[{n}]")
        if not item.matter_code:
            raise ContentError(f"{where}：check_items[{n}]：缺少字段 matter_code")
        by_matter.setdefault(item.matter_code, []).append(item)
    return tuple(i for matter, items in by_matter.items() for i in items_for(matter, department_code, *items))


def _build(cls: type, table: Any, where: str) -> Any:
    """An instance of the dataclass ``cls`` from a TOML table, each value checked against the
    field's type."""
    table = _check(table, dict, where)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    _refuse_unknown(table, fields, where)
    missing = [name for name, f in fields.items() if name not in table
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise ContentError(f"{where}：缺少字段 {'、'.join(missing)}")
    values = {name: _convert(value, hints[name], f"{where}.{name}") for name, value in table.items()}
    try:
        return cls(**values)
    except ValueError as exc:
        raise ContentError(f"{where}：{exc}") from exc


def _convert(value: Any, hint: Any, where: str) -> Any:
    """``value`` as the field type ``hint`` wants it: a table becomes its dataclass, a list a tuple."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        if value is None or type(None) not in args:
            return _convert(value, next(a for a in args if a is not type(None)), where)
        return value
    if typing.get_origin(hint) is tuple:
        return tuple(_convert(v, args[0], f"{where}[{n}]") for n, v in enumerate(_check(value, list, where)))
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, where)
    if hint is Decimal:
        return Decimal(str(_check(value, (str, int, float), where)))
    return _check(value, hint, where)


def _check(value: Any, expected: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise ContentError(f"{where}：值 {value!r} 的类型不对")
    return value


def _tables(value: Any, where: str) -> list[dict]:
    return [dict(_check(t, dict, f"{where}[{n}]")) for n, t in enumerate(_check(value, list, where))]


def _refuse_unknown(table: Mapping[str, Any], known, where: str) -> None:
    unknown = [key for key in table if key not in known]
    if unknown:
        raise ContentError(f"{where}：未知字段 {'、'.join(unknown)}")
