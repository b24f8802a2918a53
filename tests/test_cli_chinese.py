"""The command line speaks Chinese: help screens, and the prefix of every error."""
from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

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


def _run(*args):
    return subprocess.run([sys.executable, "-c", "from gateway.cli.main import main; main()", *args],
                          capture_output=True, text=True)


def test_errors_carry_a_chinese_prefix_and_exit_code():
    missing = _run("import", "targets")
    assert missing.returncode == 2
    assert "运行“shuangsui import targets --help”查看帮助。" in missing.stderr and "错误：" in missing.stderr
    bad = _run("import", "targets", "/nonexistent/file.csv")
    assert bad.returncode == 2 and "错误：" in bad.stderr and "Error:" not in bad.stderr
