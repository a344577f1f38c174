"""read_problem: why a file could not be read, in Chinese, never the English of the OS or parser."""

import re
import tomllib

import pytest

from pipelines.errors import read_problem

NO_LATIN_WORDS = re.compile(r"[A-Za-z]{4,}")


def _toml_error() -> tomllib.TOMLDecodeError:
    try:
        tomllib.loads("[weights]\nclosure_rate = \n")
    except tomllib.TOMLDecodeError as exc:
        return exc
    raise AssertionError("the TOML above should not parse")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (FileNotFoundError(2, "No such file or directory"), "文件不存在"),
        (IsADirectoryError(21, "Is a directory"), "这是一个文件夹，不是文件"),
        (PermissionError(13, "Permission denied"), "没有读取权限"),
        (
            UnicodeDecodeError("utf-8", b"\xb1\xc8", 0, 1, "invalid start byte"),
            "不是 UTF-8 编码（第 1 个字节起无法解码），请另存为 UTF-8",
        ),
        (_toml_error(), "TOML 格式有误（第 2 行第 16 列），请对照内置的示例改正"),
        (OSError(5, "Input/output error"), "系统无法读取该文件（错误号 5）"),
    ],
)
def test_read_problem_says_why_in_chinese(error, expected):
    assert read_problem(error) == expected
    assert not NO_LATIN_WORDS.search(read_problem(error).replace("TOML", "").replace("UTF", ""))
