"""click's help screens and messages in Chinese, for the county users who read them."""
from __future__ import annotations

import re
import sys
import unicodedata

import click
import click.core
import click.decorators
import click.exceptions
import click.formatting
import click.parser
import click.termui
import click.types
from click.core import Argument

from gateway.errors import DomainError
from schemas.i18n import translate_errors
from schemas.validators import CHARS_MESSAGE, has_bad_chars

HELP_OPTION_TEXT = "显示本帮助并退出。"

# click marks its messages for gettext (``_`` and ``ngettext`` in each module) and ships no
# translations. These are the ones a county user can meet: usage errors, bad values, prompts and
# help labels. The keys are click's own message ids (click 8.1–8.3); an id click changes falls
# back to English rather than failing. Placeholders stay as click fills them; a template may drop
# one (str.format ignores the rest), as the number type's English name is dropped below.
CLICK_MESSAGES = {
    "Aborted!": "已中止。",
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "运行“{command} {option}”查看帮助。",
    "Usage:": "用法：",
    "Options": "选项",
    "Commands": "命令",
    "Positional arguments": "位置参数",
    "Show this message and exit.": HELP_OPTION_TEXT,
    "Show the version and exit.": "显示版本并退出。",
    "%(prog)s, version %(version)s": "%(prog)s，版本 %(version)s",
    "default: {default}": "默认：{default}",
    "env var: {var}": "环境变量：{var}",
    "(dynamic)": "（动态）",
    "deprecated": "已弃用",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing {param_type}": "缺少{param_type}",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "Missing command.": "缺少命令。",
    "No such command {name!r}.": "没有命令 {name!r}。",
    "No such option {name!r}.": "没有选项 {name!r}。",
    "Option {name!r} does not take a value.": "选项 {name!r} 不接受取值。",
    "Argument {name!r} takes {nargs} values.": "参数 {name!r} 需要 {nargs} 个取值。",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的取值无效：{message}",
    "Invalid value: {message}": "取值无效：{message}",
    "Value must be an iterable.": "取值必须是一组值。",
    "unknown error": "未知错误",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的数字。",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 内。",
    "{value!r} is not a valid boolean. Recognized values: {states}": "{value!r} 不是有效的是否值，可用：{states}",
    "{value!r} is not a valid UUID.": "{value!r} 不是有效的 UUID。",
    "Choose from:\n\t{choices}": "可选：\n\t{choices}",
    "file": "文件",
    "directory": "目录",
    "path": "路径",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件，不是目录。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是目录，不是文件。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 不可读。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 不可写。",
    "{name} {filename!r} is not executable.": "{name} {filename!r} 不可执行。",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename!r}：{message}",
    "Do you want to continue?": "是否继续？",
    "Confirm the action without prompting.": "不经询问，直接确认。",
    "Repeat for confirmation": "请再输入一次以确认",
    "Error: The two entered values do not match.": "错误：两次输入不一致。",
    "Error: invalid input": "错误：输入无效",
    "Press any key to continue...": "按任意键继续……",
}
CLICK_PLURALS = {
    ("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"):
        ("您是不是要用 {possibility}？", "（您是不是要用以下之一：{possibilities}？）"),
    ("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."):
        ("选项 {name!r} 需要一个取值。", "选项 {name!r} 需要 {nargs} 个取值。"),
    ("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"):
        ("多余的参数（{args}）", "多余的参数（{args}）"),
    ("Takes {nargs} values but 1 was given.", "Takes {nargs} values but {len} were given."):
        ("需要 {nargs} 个取值，只给了 1 个。", "需要 {nargs} 个取值，给了 {len} 个。"),
    ("{value!r} is not {choice}.", "{value!r} is not one of {choices}."):
        ("{value!r} 不是 {choice}。", "{value!r} 不是 {choices} 之一。"),
    ("{value!r} does not match the format {format}.", "{value!r} does not match the formats {formats}."):
        ("{value!r} 不符合格式 {format}。", "{value!r} 不符合以下任一格式：{formats}。"),
    ("{len_type} values are required, but {len_value} was given.",
     "{len_type} values are required, but {len_value} were given."):
        ("需要 {len_type} 个取值，给了 {len_value} 个。", "需要 {len_type} 个取值，给了 {len_value} 个。"),
}


CLICK_INDIRECT_MESSAGES = {"required": "必填"}
"""Ids click hands to gettext through a variable (``_(extra["required"])``), not as a literal."""


def gettext_zh(message: str) -> str:
    return CLICK_MESSAGES.get(message) or CLICK_INDIRECT_MESSAGES.get(message, message)


def ngettext_zh(singular: str, plural: str, count: int) -> str:
    chinese = CLICK_PLURALS.get((singular, plural))
    if chinese is None:
        return singular if count == 1 else plural
    return chinese[0] if count == 1 else chinese[1]


def install_click_messages() -> None:
    """Point click's gettext hooks at :data:`CLICK_MESSAGES` (idempotent)."""
    for module in (click.core, click.decorators, click.exceptions, click.formatting, click.parser,
                   click.termui, click.types):
        if hasattr(module, "_"):
            module._ = gettext_zh
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext_zh


install_click_messages()


TYPE_METAVARS = {"integer": "整数", "integer range": "整数", "float": "数字", "float range": "数字",
                 "text": "文本", "boolean": "是或否", "uuid": "UUID"}
"""Metavars for click's value types whose names click does not translate (its paths and files it does)."""

ARGUMENT_METAVARS = {
    "path": "文件", "name": "名称", "username": "用户名", "token_id": "令牌编号", "plan_id": "计划编号",
    "draw_id": "抽取编号", "task_id": "任务编号", "request_id": "申请编号", "proposal_id": "提请编号", "record_ids": "记录编号",
}
"""How the usage line names a command's arguments (click would print the parameter's name)."""


def _chinese_metavars(params) -> None:
    for param in params:
        if param.metavar is not None:
            continue
        if isinstance(param, click.Option) and not param.is_flag and param.type.name in TYPE_METAVARS:
            param.metavar = TYPE_METAVARS[param.type.name] + ("..." if param.nargs != 1 else "")
        elif isinstance(param, Argument) and param.name in ARGUMENT_METAVARS \
                and not isinstance(param.type, (click.Choice, click.DateTime)):  # those show their values
            name = ARGUMENT_METAVARS[param.name]
            param.metavar = (name if param.required else f"[{name}]") + ("..." if param.nargs != 1 else "")


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in click.unstyle(text))


_TOKEN = re.compile(r"[\x21-\x7e]+|.")  # an ASCII word, or any other single character
_NO_LINE_START = set("，。、；：？！）》」』】%,.;:?!)")


def wrap_display(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` terminal columns, one blank line between its
    paragraphs: Chinese breaks between any two characters (never before a closing mark), other
    text at spaces. A paragraph starting with click's ``\\b`` marker keeps its lines."""
    lines: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        if lines:
            lines.append("")
        if paragraph.startswith("\b"):
            lines.extend(paragraph[1:].strip("\n").splitlines())
            continue
        line: list[str] = []  # tokens
        for token in _TOKEN.findall(" ".join(paragraph.split())):
            if token == " ":
                if line and line[-1] != " ":
                    line.append(token)
                continue
            if not line or display_width("".join(line) + token) <= width:
                line.append(token)
            elif token in _NO_LINE_START and len(line) > 1 and line[-1] != " ":
                # a closing mark never starts a line: the character before it goes along
                lines.append("".join(line[:-1]).rstrip())
                line = [line[-1], token]
            else:
                lines.append("".join(line).rstrip())
                line = [token]
        if line:
            lines.append("".join(line).rstrip())
    return lines


class ChineseHelpFormatter(click.HelpFormatter):
    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{heading}：\n")

    def write_text(self, text: str) -> None:
        """click's re-indented paragraphs, wrapped by display width."""
        indent = " " * self.current_indent
        for line in wrap_display(text, max(self.width - self.current_indent, 11)):
            self.write(f"{indent}{line}\n" if line else "\n")

    def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:
        """click's definition list, aligned by display width (an option's metavar may be Chinese)."""
        rows = list(rows)
        first_col = min(max((display_width(first) for first, _ in rows), default=0), col_max) + col_spacing
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if display_width(first) <= first_col - col_spacing:
                self.write(" " * (first_col - display_width(first)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            lines = wrap_display(second, max(self.width - first_col - self.current_indent, 10))
            self.write(f"{lines[0]}\n" if lines else "\n")
            for line in lines[1:]:
                self.write(f"{'':>{first_col + self.current_indent}}{line}\n")


class ChineseContext(click.Context):
    formatter_class = ChineseHelpFormatter


def failure(exc: DomainError) -> click.ClickException:
    """A domain error as a command failure (exit code 1): the message, then one line per field or
    row (dotted path) whose message says more than the message itself."""
    lines = [exc.message]

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            lines.extend(f"  {prefix}：{v}" for v in value if v != exc.message)
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                walk(f"{prefix}.{index}", inner)
        elif value != exc.message:
            lines.append(f"  {prefix}：{value}")

    walk("", translate_errors(exc.errors or {}))
    return click.ClickException("\n".join(lines))


class _DomainErrorsFail:
    """Every command and group turns the domain errors of the services it calls into its failure,
    so a command body calls services without catching anything."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except DomainError as exc:
            raise failure(exc) from None


class _ChineseHelp:
    context_class = ChineseContext

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, " ".join(self.collect_usage_pieces(ctx)), prefix="用法：")

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [
            record for param in self.get_params(ctx)
            if not isinstance(param, Argument) and (record := param.get_help_record(ctx)) is not None
        ]
        if rows:
            with formatter.section("选项"):
                formatter.write_dl(rows)

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP_OPTION_TEXT
        return option


class ChineseCommand(_DomainErrorsFail, _ChineseHelp, click.Command):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("options_metavar", "[选项]")
        super().__init__(*args, **kwargs)
        _chinese_metavars(self.params)

    def invoke(self, ctx: click.Context):
        _check_text_params(ctx)
        return super().invoke(ctx)


def _check_text_params(ctx: click.Context) -> None:
    """The command line's entry to the one text check (schemas.validators.validate_text)."""

    for param in ctx.command.params:
        value = ctx.params.get(param.name)
        values = value if isinstance(value, (list, tuple)) else [value]
        if any(isinstance(v, str) and has_bad_chars(v) for v in values):
            raise click.BadParameter(CHARS_MESSAGE, ctx=ctx, param=param)


class ChineseGroup(_DomainErrorsFail, _ChineseHelp, click.Group):
    command_class = ChineseCommand
    group_class = type  # subgroups are ChineseGroups too

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("options_metavar", "[选项]")
        kwargs.setdefault("subcommand_metavar", "命令 [参数]...")
        super().__init__(*args, **kwargs)
        _chinese_metavars(self.params)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        _ChineseHelp.format_options(self, ctx, formatter)
        self.format_commands(ctx, formatter)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        commands = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                commands.append((name, command))
        if commands:
            limit = formatter.width - 6 - max(len(name) for name, _ in commands)
            with formatter.section("命令"):
                formatter.write_dl([(name, command.get_short_help_str(limit)) for name, command in commands])


# click >= 8.2 raises this when a group is called without a command; older versions print help.
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


def _full_stop(message: str) -> str:
    """click ends some messages with an English full stop outside its translatable text."""
    return message[:-1] + "。" if message.endswith(".") else message


def run(group: click.Group, prog_name: str = "shuangsui") -> None:
    """Run ``group`` as a program, printing click's errors with a Chinese prefix and hint."""
    try:
        result = group.main(prog_name=prog_name, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("已中止。", err=True)
        sys.exit(1)
    except _NO_ARGS_IS_HELP as exc:  # a group called without a command: its help is the answer
        click.echo(exc.format_message(), err=True)
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        if exc.ctx is not None:
            click.echo(f"{exc.ctx.get_usage()}\n运行“{exc.ctx.command_path} --help”查看帮助。", err=True)
        click.echo(f"错误：{_full_stop(exc.format_message())}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"错误：{_full_stop(exc.format_message())}", err=True)
        sys.exit(exc.exit_code)
    sys.exit(result if isinstance(result, int) else 0)
