"""Click's and Typer's own words (usage, help panels, usage errors) in Chinese.

Typer's help panels take their titles from module constants and look a few messages up with
`gettext`; its vendored Click writes usage lines, the help option and usage errors in English.
`install` points the constants and lookups at the table below and translates Click's finished
messages by pattern. A message neither reaches stays as written.
"""

from __future__ import annotations

import re

__all__ = ["ZH", "install", "translate"]

ZH: dict[str, str] = {
    "Usage:": "用法：",
    "Options": "选项",
    "Arguments": "参数",
    "Commands": "命令",
    "Positional arguments": "位置参数",
    "Show this message and exit.": "显示本帮助并退出。",
    "Show the version and exit.": "显示版本并退出。",
    "Error": "错误",
    "Error: {message}": "错误：{message}",
    "Aborted!": "已中止。",
    "Aborted.": "已中止。",
    "Try '{command} {option}' for help.": "查看帮助：'{command} {option}'",
    "Try [blue]'{command_path} {help_option}'[/] for help.": "查看帮助：[blue]'{command_path} {help_option}'[/]",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing {param_type}": "缺少{param_type}",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "Missing command.": "缺少命令。",
    "No such command {name!r}.": "没有这个命令：{name!r}。",
    "No such option: {name}": "没有这个选项：{name}",
    "No such option {name!r}.": "没有这个选项：{name!r}。",
    "Invalid value: {message}": "取值无效：{message}",
    "Invalid value for {param_hint}: {message}": "{param_hint} 取值无效：{message}",
    "Option {name!r} does not take a value.": "选项 {name!r} 不带取值。",
    "Argument {name!r} takes {nargs} values.": "参数 {name!r} 需要 {nargs} 个值。",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的{number_type}。",
    "{value!r} is not a valid UUID.": "{value!r} 不是有效的 UUID。",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 内。",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件，应为目录。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是目录，应为文件。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 不可读。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 不可写。",
    "file": "文件",
    "directory": "目录",
    "path": "路径",
    "required": "必填",
    "[required]": "[必填]",
    "default: {default}": "默认：{default}",
    "[default: {}]": "[默认：{}]",
    "env var: {var}": "环境变量：{var}",
    "[env var: {}]": "[环境变量：{}]",
    "(deprecated) ": "（已停用）",
    "deprecated": "已停用",
    "Choose from:\n\t{choices}": "可选：\n\t{choices}",
    "Repeat for confirmation": "再输入一次确认",
    "Error: The two entered values do not match.": "错误：两次输入不一致。",
    "Error: invalid input": "错误：输入无效",
    "Input should be a valid integer, unable to parse string as an integer": "应为整数",
    "[OPTIONS]": "[选项]",
    "COMMAND [ARGS]...": "命令 [参数]...",
}
# Typer vendors Click (typer._click) with its messages written in English f-strings: those are
# translated from the finished text, pattern by pattern.
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^Missing argument (.+)\.$", re.S), r"缺少参数 \1。"),
    (re.compile(r"^Missing option (.+)\.$", re.S), r"缺少选项 \1。"),
    (re.compile(r"^Missing parameter:? ?(.*?)\.?$", re.S), r"缺少参数 \1。"),
    (re.compile(r"^Invalid value for (.+?): (.*)$", re.S), r"\1 取值无效：\2"),
    (re.compile(r"^Invalid value: (.*)$", re.S), r"取值无效：\1"),
    (re.compile(r"^No such option: (.*?)\.?$", re.S), r"没有这个选项：\1"),
    (re.compile(r"^Got unexpected extra arguments? \((.*)\)$", re.S), r"多出了参数（\1）"),
    (re.compile(r"^Option (.+) requires an argument\.$", re.S), r"选项 \1 需要取值。"),
    (re.compile(r"^Value (.+) is not a valid (.+?)\.$", re.S), r"\1 不是有效的 \2。"),
    (re.compile(r"^(.+) is not one of (.+)\.$", re.S), r"\1 不是 \2 之一。"),
    (re.compile(r"\.? ?Did you mean (.+)\?$", re.S), r"。您是不是要输入 \1？"),
    (re.compile(r"\(Possible options: (.+)\)", re.S), r"（可选：\1）"),
    (re.compile(r"Input should be a valid integer, unable to parse string as an integer"), "应为整数"),
    (re.compile(r"Input should be a valid number, unable to parse string as a number"), "应为数字"),
]
_TYPER_CONSTANTS = {
    "ARGUMENTS_PANEL_TITLE": "Arguments",
    "OPTIONS_PANEL_TITLE": "Options",
    "COMMANDS_PANEL_TITLE": "Commands",
    "ERRORS_PANEL_TITLE": "Error",
    "ABORTED_TEXT": "Aborted.",
    "RICH_HELP": "Try [blue]'{command_path} {help_option}'[/] for help.",
    "DEFAULT_STRING": "[default: {}]",
    "ENVVAR_STRING": "[env var: {}]",
    "REQUIRED_LONG_STRING": "[required]",
    "DEPRECATED_STRING": "(deprecated) ",
}
_INSTALLED: list[bool] = []


def gettext(message: str) -> str:
    """Click's or Typer's message in Chinese when the table has it."""
    return ZH.get(message, message)


def translate(text: str) -> str:
    """A finished usage-error message in Chinese, as far as the patterns reach."""
    text = ZH.get(text, text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _chinese_message(format_message):
    def wrapped(self) -> str:
        return translate(format_message(self))

    return wrapped


def install() -> None:
    """Point Typer's (and its vendored Click's) words at Chinese; once per process."""
    if _INSTALLED:
        return
    _INSTALLED.append(True)
    from typer import core, rich_utils
    from typer._click import core as click_core
    from typer._click import exceptions, formatting

    core._ = gettext
    rich_utils._ = gettext
    for constant, english in _TYPER_CONSTANTS.items():
        setattr(rich_utils, constant, ZH[english])

    write_usage = formatting.HelpFormatter.write_usage

    def write_usage_zh(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        for english in ("[OPTIONS]", "COMMAND [ARGS]..."):
            args = args.replace(english, ZH[english])
        write_usage(self, prog, args, ZH["Usage:"] if prefix is None else prefix)

    formatting.HelpFormatter.write_usage = write_usage_zh  # type: ignore[method-assign]

    get_help_option = click_core.Command.get_help_option

    def get_help_option_zh(self, ctx):
        option = get_help_option(self, ctx)
        if option is not None:
            option.help = gettext(option.help or "")
        return option

    click_core.Command.get_help_option = get_help_option_zh  # type: ignore[method-assign]
    for cls in vars(exceptions).values():
        if isinstance(cls, type) and issubclass(cls, exceptions.ClickException) and "format_message" in vars(cls):
            cls.format_message = _chinese_message(cls.format_message)  # type: ignore[method-assign]
    base = exceptions.ClickException
    if "format_message" not in vars(base):
        base.format_message = _chinese_message(base.format_message)  # type: ignore[method-assign]
