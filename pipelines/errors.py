"""Errors shown to people: the message is Chinese and says what to do."""

from __future__ import annotations

import re
import tomllib

__all__ = ["BiduiError", "read_problem"]


class BiduiError(Exception):
    """A problem the user can act on; the CLI prints the message without a traceback."""


_TOML_PLACE = re.compile(r"\(at line (\d+), column (\d+)\)")


def read_problem(exc: BaseException) -> str:
    """Why a file could not be read, in Chinese: the operating system's and the parsers' own
    messages are English, and the people reading ours are not expected to read those."""
    if isinstance(exc, FileNotFoundError):
        return "文件不存在"
    if isinstance(exc, IsADirectoryError):
        return "这是一个文件夹，不是文件"
    if isinstance(exc, PermissionError):
        return "没有读取权限"
    if isinstance(exc, UnicodeDecodeError):
        return f"不是 UTF-8 编码（第 {exc.start + 1} 个字节起无法解码），请另存为 UTF-8"
    if isinstance(exc, tomllib.TOMLDecodeError):
        place = _TOML_PLACE.search(str(exc))
        where = f"第 {place.group(1)} 行第 {place.group(2)} 列" if place else "某处"
        return f"TOML 格式有误（{where}），请对照内置的示例改正"
    if isinstance(exc, OSError):
        return f"系统无法读取该文件（错误号 {exc.errno}）" if exc.errno else "系统无法读取该文件"
    return "内容格式有误"
