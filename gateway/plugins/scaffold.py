"""Write a new department plugin distribution from the templates in ``templates/``.

``shuangsui plugin new NAME`` calls :func:`scaffold_plugin`. The result is a complete,
installable distribution (pyproject, package with a sample department and matter in
``content.toml``, the hooks where it differs from the gateway's defaults, tests) whose own tests
pass once it is installed next to the gateway.
"""
from __future__ import annotations

import json
import keyword
import re
from importlib import metadata, resources
from pathlib import Path
from string import Template

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,29}$")

# template (relative to templates/) -> output path (relative to the new distribution);
# "{package}" and "{name}" are filled in.
_FILES = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "package/__init__.py.tmpl": "{package}/__init__.py",
    "package/content.toml.tmpl": "{package}/content.toml",
    "package/plugin.py.tmpl": "{package}/plugin.py",
    "tests/test_plugin.py.tmpl": "tests/test_{name}_plugin.py",
    "tests/test_integration.py.tmpl": "tests/test_{name}_integration.py",
}


def gateway_requirement(version: str | None = None) -> str:
    """The requirement a new plugin pins: this gateway's series, within which the plugin API keeps
    its compatibility promise (docs/plugins.md): the minor series while 0.x, the major from 1.0."""
    version = version or metadata.version("shuangsui-gateway")
    major, minor = (int(part) for part in version.split(".")[:2])
    upper = f"{major}.{minor + 1}" if major == 0 else f"{major + 1}"
    return f"shuangsui-gateway>={major}.{minor},<{upper}"


def check_plugin_name(name: str) -> str:
    """Return ``name`` if it can serve as entry-point name, department code and package suffix;
    raise ValueError (message in Chinese, for the CLI) otherwise."""
    if not NAME_PATTERN.match(name or "") or name.endswith("_") or "__" in name:
        raise ValueError(
            f"插件名 {name!r} 无效：须为2至30个字符，以小写字母开头，只含小写字母、数字和单个下划线"
        )
    if keyword.iskeyword(name):
        raise ValueError(f"插件名 {name!r} 是 Python 关键字")
    return name


def plugin_names(name: str) -> dict[str, str]:
    """The identifiers a plugin called ``name`` gets (distribution, package, codes)."""
    check_plugin_name(name)
    return {
        "name": name,
        "dist_name": "shuangsui-" + name.replace("_", "-"),
        "package": "shuangsui_" + name,
        "matter_code": f"{name}_sample",
        "prefix": name,
    }


SHORT_NAME_MAX = 10
_PLACE = re.compile(r"^.+?[省市县区](?=.)")


def short_name_for(department_name: str) -> str:
    """A short name for tables, never cut mid-word: the name itself when short enough, else the
    name with its place replaced by its level (``某某县卫生健康委员会`` -> ``县卫生健康委员会``)."""
    if len(department_name) <= SHORT_NAME_MAX:
        return department_name
    place = _PLACE.match(department_name)
    return place.group(0)[-1] + department_name[place.end():] if place else department_name


def scaffold_plugin(
    name: str, dest: Path, *, department_name: str | None = None, short_name: str | None = None
) -> Path:
    """Create the distribution ``dest/NAME`` for a department plugin called ``name`` and return
    its path.

    ``name`` becomes the entry-point name and department code; the distribution is
    ``shuangsui-NAME`` and the package ``shuangsui_NAME``. ``department_name`` is the Chinese
    name of the department (a sample name when omitted) and ``short_name`` its short name for
    tables (derived from the name when omitted, see :func:`short_name_for`). Raises ValueError
    for an unusable name and FileExistsError when ``dest/NAME`` already exists.
    """
    values = plugin_names(name)
    dept = department_name or f"示例部门（{name}）"
    values["gateway_requirement"] = gateway_requirement()
    # a JSON string is a TOML basic string
    values["department_name_toml"] = json.dumps(dept, ensure_ascii=False)
    short = short_name or ("示例部门" if department_name is None else short_name_for(dept))
    values["short_name_toml"] = json.dumps(short, ensure_ascii=False)

    root = Path(dest) / name
    if root.exists():
        raise FileExistsError(f"目录 {root} 已存在，未覆盖任何文件")

    templates = resources.files("gateway.plugins").joinpath("templates")
    rendered = {
        out.format(package=values["package"], name=name): Template(
            templates.joinpath(src).read_text(encoding="utf-8")
        ).substitute(values)
        for src, out in _FILES.items()
    }
    root.mkdir(parents=True)
    for relative, text in rendered.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
