"""``load_content`` reads a plugin's ``content.toml`` into the contribution types, hands it out through
the hooks, and refuses a file it cannot map with a message naming the file and the field."""
from __future__ import annotations

import sys
import textwrap
import uuid
from decimal import Decimal

import pytest

from gateway.plugins.content import ContentError, load_content
from gateway.plugins.contributions import CheckItem, TargetCriteria
from gateway.plugins.manager import build_plugin_manager, load_registry

GOOD = """
[department]
code = "fishery"
name = "武陟县渔业局"
level = "county"

[[matters]]
code = "fish_sample"
field = "渔业"
name = "渔业抽查"
legal_basis = ["《中华人民共和国渔业法》第二十三条"]
min_ratio = "0.1"
frequency = "每年不少于1次"
methods = ["实地核查"]
guide_text = \"\"\"
指引
\"\"\"

[matters.criteria]
target_types = ["enterprise"]
scope_keywords = ["渔"]

[[matters.check_items]]
code = "fish_licence"
name = "捕捞许可"
content = "是否持证。"

[[matters.check_items]]
code = "fish_catch_kg"
name = "渔获量"
kind = "decimal"
minimum = 0
maximum = "100.5"
"""


@pytest.fixture()
def package(tmp_path, monkeypatch):
    """A fresh importable package; call it with the text of its content.toml."""
    def make(text: str) -> str:
        name = f"content_pkg_{uuid.uuid4().hex[:8]}"
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("", encoding="utf-8")
        (tmp_path / name / "content.toml").write_text(textwrap.dedent(text), encoding="utf-8")
        return name

    monkeypatch.syspath_prepend(str(tmp_path))
    yield make
    for module in [m for m in sys.modules if m.startswith("content_pkg_")]:
        del sys.modules[module]


def test_every_table_becomes_its_contribution_type(package):
    content = load_content(package(GOOD))
    assert content.department.name == "武陟县渔业局"
    matter = content.matter("fish_sample")
    assert matter.department_code == "fishery"  # the file's department unless given
    assert matter.min_ratio == Decimal("0.1")
    assert matter.legal_basis == ("《中华人民共和国渔业法》第二十三条",)
    assert matter.criteria == TargetCriteria(target_types=("enterprise",), scope_keywords=("渔",))
    licence, catch = matter.check_items
    assert (licence.matter_code, licence.department_code, licence.order) == ("fish_sample", "fishery", 1)
    assert (catch.kind, catch.minimum, catch.maximum, catch.order) == ("decimal", Decimal(0), Decimal("100.5"), 2)
    assert content.guide_texts == {"fish_sample": "指引\n"}
    assert content.check_items == ()
    with pytest.raises(KeyError, match="another_matter"):
        content.matter("another_matter")


def test_the_hooks_hand_the_content_to_the_registry(package):
    content = load_content(package(GOOD))

    class Plugin:
        gateway_department, gateway_matters, gateway_check_items, gateway_guide_text = content.hooks()

    registry = load_registry(build_plugin_manager(load_entry_points=False, extra_plugins=[("fishery", Plugin())]))
    assert registry.department_plugin == {"fishery": "fishery"}
    assert [i.code for i in registry.check_items["fish_sample"]] == ["fish_licence", "fish_catch_kg"]
    assert registry.guide_texts == {"fish_sample": "指引\n"}


def test_cooperating_items_are_numbered_per_matter(package):
    content = load_content(package("""
        [department]
        code = "water"
        name = "水利局"

        [[check_items]]
        code = "w1"
        matter_code = "a"
        name = "一"

        [[check_items]]
        code = "w2"
        matter_code = "b"
        name = "二"

        [[check_items]]
        code = "w3"
        matter_code = "a"
        name = "三"
        order = 7
        """))
    assert content.department.level == "county"
    assert content.matters == ()
    assert [(i.code, i.matter_code, i.department_code, i.order) for i in content.check_items] == [
        ("w1", "a", "water", 1), ("w3", "a", "water", 7), ("w2", "b", "water", 1),
    ]
    assert isinstance(content.check_items[0], CheckItem)


@pytest.mark.parametrize("change, message", [
    (("name = \"捕捞许可\"", "nmae = \"捕捞许可\""), r"matters\[0\]\.check_items\[0\]：未知字段 nmae"),
    (("min_ratio = \"0.1\"", "min_ratio = \"1.5\""), r"matters\[0\]：matter fish_sample: min_ratio must be in \(0, 1\]"),
    (("frequency = \"每年不少于1次\"\n", ""), r"matters\[0\]：缺少字段 frequency"),
    (("methods = [\"实地核查\"]", "methods = \"实地核查\""), r"matters\[0\]\.methods：值 '实地核查' 的类型不对"),
    (("scope_keywords = [\"渔\"]", "scope_keywords = [\"渔\", 3]"), r"matters\[0\]\.criteria\.scope_keywords\[1\]：值 3"),
    (("kind = \"decimal\"", "kind = \"float\""), r"matters\[0\]\.check_items\[1\]：check item fish_catch_kg: unknown kind"),
    (("level = \"county\"", "level = true"), r"department\.level：值 True 的类型不对"),
    (("[department]", "[departments]"), r"未知字段 departments"),
])
def test_a_file_that_does_not_fit_is_refused_naming_file_and_field(package, change, message):
    name = package(GOOD.replace(*change, 1))
    with pytest.raises(ContentError, match=rf"^{name}/content\.toml：{message}"):
        load_content(name)


def test_a_cooperating_item_must_name_its_matter(package):
    name = package("""
        [department]
        code = "water"
        name = "水利局"

        [[check_items]]
        code = "w1"
        name = "一"
        """)
    with pytest.raises(ContentError, match=rf"{name}/content.toml：check_items\[0\]：缺少字段 matter_code"):
        load_content(name)


def test_a_file_that_is_not_toml_or_missing_is_refused_naming_it(package):
    name = package(GOOD.replace('code = "fish_sample"', 'code = "fish_sample', 1))
    with pytest.raises(ContentError, match=rf"插件内容文件 {name}/content.toml 无法读取"):
        load_content(name)
    with pytest.raises(ContentError, match=rf"插件内容文件 {name}/other.toml 无法读取"):
        load_content(name, "other.toml")
