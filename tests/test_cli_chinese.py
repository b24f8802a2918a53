"""The command line speaks Chinese: help screens, and the prefix of every error."""
from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from gateway.cli.chinese import display_width, wrap_display
from gateway.cli.main import cli


def _walk(group, path=()):
    for name, command in group.commands.items():
        yield path + (name,), command
        if hasattr(command, "commands"):
            yield from _walk(command, path + (name,))


def test_every_help_screen_has_chinese_headings():
    runner = CliRunner()
    for path, _command in [((), cli), *_walk(cli)]:
        result = runner.invoke(cli, [*path, "--help"], prog_name="shuangsui")
        assert result.exit_code == 0, (path, result.output)
        assert result.output.startswith("用法：shuangsui"), path
        assert "显示本帮助并退出。" in result.output and "Show this message" not in result.output, path


def test_every_option_and_argument_says_in_chinese_what_it_is():
    runner = CliRunner()
    for path, command in [((), cli), *_walk(cli)]:
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                assert param.help and any("\u4e00" <= c <= "\u9fff" for c in param.help), (path, param.opts)
            if isinstance(param, click.Argument) and not isinstance(param.type, click.Choice):  # choices show
                assert param.metavar and any("\u4e00" <= c <= "\u9fff" for c in param.metavar), (path, param.name)
        shown = runner.invoke(cli, [*path, "--help"], prog_name="shuangsui").output
        for english in ("INTEGER", "TEXT", "BOOLEAN", "FLOAT", "PATH", "FILENAME", "FILE", "DIRECTORY", "[required]"):
            assert english not in shown, (path, english)
        # within CliRunner's 80 columns, but for an option whose choices alone are wider
        assert all(display_width(line) <= 80 for line in shown.splitlines() if not line.startswith("  -")), shown


@pytest.mark.parametrize("path", [("results", "stats"), ("draw", "list"), ()])
def test_option_descriptions_line_up_in_terminal_columns(path):
    shown = CliRunner().invoke(cli, [*path, "--help"], prog_name="shuangsui").output
    rows = shown.split("选项：\n")[1].split("\n\n")[0].splitlines()
    starts = set()
    for row in rows:
        term, _, description = row.strip().partition("  ")
        if description.strip():
            starts.add(display_width(row) - display_width(description.lstrip()))
    assert len(rows) >= 3 and len(starts) == 1, shown


def test_wrapping_counts_chinese_characters_as_two_columns():
    assert wrap_display("检查任务书与检查指引书", 10) == ["检查任务书", "与检查指引", "书"]
    # a closing mark never starts a line; the character before it moves down with it
    assert wrap_display("甲乙丙丁，戊", 8) == ["甲乙丙", "丁，戊"]
    # ASCII words stay whole; paragraphs keep one blank line; click's \b keeps its lines
    assert wrap_display("导出 shuangsui.draw/1 记录", 12) == ["导出", "shuangsui.draw/1", "记录"]
    assert wrap_display("第一段。\n\n第二段。", 40) == ["第一段。", "", "第二段。"]
    assert wrap_display("\b\n  a   b\n  c", 3) == ["  a   b", "  c"]
    assert all(display_width(line) <= 20 for line in wrap_display("双随机抽取：冻结总体、记录随机数承诺、确定随机种子。" * 3, 20))


def _run(*args):
    return subprocess.run([sys.executable, "-c", "from gateway.cli.main import main; main()", *args],
                          capture_output=True, text=True)


def test_errors_carry_a_chinese_prefix_and_exit_code():
    missing = _run("import", "targets")
    assert missing.returncode == 2
    assert "运行“shuangsui import targets --help”查看帮助。" in missing.stderr and "错误：" in missing.stderr
    bad = _run("import", "targets", "/nonexistent/file.csv")
    assert bad.returncode == 2 and "错误：" in bad.stderr and "Error:" not in bad.stderr


def test_click_usage_errors_are_chinese():
    missing = _run("import", "targets")
    assert "错误：缺少参数 '文件'。" in missing.stderr and "Missing" not in missing.stderr
    assert "用法：shuangsui import targets [选项] 文件" in missing.stderr
    not_a_number = _run("draw", "export", "abc", "-o", "x.json")
    assert not_a_number.returncode == 2 and "'abc' 不是有效的数字。" in not_a_number.stderr
    unknown = _run("draw", "exprt")
    assert "没有命令 'exprt'。" in unknown.stderr and "您是不是要用 'export'？" in unknown.stderr
    option = _run("draw", "list", "--bogus")
    assert "没有选项 '--bogus'。" in option.stderr
    for result in (missing, not_a_number, unknown, option):
        assert "Error" not in result.stderr and "Usage" not in result.stderr and "Try '" not in result.stderr


def test_a_group_without_a_command_shows_its_help():
    result = _run("draw")
    assert result.stderr.startswith("用法：shuangsui draw [选项] 命令 [参数]...")
    assert "命令：" in result.stderr and "错误：" not in result.stderr


def test_every_translated_message_is_one_click_still_uses():
    # click's message ids, read from its sources: a translation whose id click no longer uses
    # would silently stop applying when click is upgraded.
    import ast
    from pathlib import Path

    import click

    from gateway.cli.chinese import CLICK_INDIRECT_MESSAGES, CLICK_MESSAGES, CLICK_PLURALS

    singles, plurals, constants = set(), set(), set()
    for path in Path(click.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                constants.add(node.value)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "ngettext"):
                texts = tuple(a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str))
                if texts:
                    (singles if node.func.id == "_" else plurals).add(texts[0] if node.func.id == "_" else texts)
    assert set(CLICK_MESSAGES) <= singles, set(CLICK_MESSAGES) - singles
    assert set(CLICK_PLURALS) <= plurals, set(CLICK_PLURALS) - plurals
    assert set(CLICK_INDIRECT_MESSAGES) <= constants, set(CLICK_INDIRECT_MESSAGES) - constants
