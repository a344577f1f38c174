"""The linkage commands of `bidui` (typer CliRunner), on the hand-made night of
tests/pipelines/basemap_sample.py; the linker itself is replaced by that night's LinkResult."""

from __future__ import annotations

import importlib.util
import shutil
import sys
import types
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli import main as cli_module
from pipelines.cli.main import app
from pipelines.link import stage as basemap

SAMPLE_MODULE = "bidui_tests_basemap_sample"
SEED_HUKOU = Path(__file__).resolve().parents[3] / "seeds" / "demo" / "2026-11-20" / "hukou.csv"


def _sample() -> types.ModuleType:
    # The same shared module tests/pipelines/conftest.py loads (importlib mode: no sys.path entry).
    if SAMPLE_MODULE not in sys.modules:
        spec = importlib.util.spec_from_file_location(SAMPLE_MODULE, Path(__file__).parents[1] / "basemap_sample.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[SAMPLE_MODULE] = module
        spec.loader.exec_module(module)
    return sys.modules[SAMPLE_MODULE]


def _squash(text: str) -> str:
    """Output without whitespace, so line wrapping at the terminal width does not matter."""
    return "".join(text.split())


def _env(settings) -> dict[str, str]:
    return {"BIDUI_DATA_DIR": str(settings.data_dir), "BIDUI_DATABASE_URL": settings.database_url, "BIDUI_PROGRESS": "0"}


@pytest.fixture
def cli(settings, monkeypatch):
    """Run `bidui …` against the test store, with the hand-made night's linker."""
    sample = _sample()
    sample.write_snapshots(settings)
    monkeypatch.setattr(basemap, "default_linker", lambda: sample.RecordingLinker().as_linker())
    monkeypatch.setattr(cli_module.console, "width", 200)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), env=_env(settings))

    return invoke


def test_link_prints_the_base_map_counts(cli):
    result = cli("link", "2026-11-20")
    assert result.exit_code == 0, result.output
    assert "关联与底图（数据日期 2026-11-20）" in result.output
    lines = [" ".join(line.replace("│", " ").split()) for line in result.output.splitlines()]
    assert {"人员记录 8", "人员 4", "其中新编号 4", "户 1", "待审核配对 1", "关联方式：身份证号一致 4"} <= set(lines)


def test_link_refuses_a_bad_date(cli):
    result = cli("link", "2026-13-01")
    assert (result.exit_code, _squash(result.output)) == (1, _squash("错误：数据日期“2026-13-01”格式不对，应为 YYYY-MM-DD"))


def test_explain_prints_weights_and_thresholds(cli):
    cli("link", "2026-11-20")
    result = cli("explain", "minimum_living", "ML1", "--date", "2026-11-20")
    assert result.exit_code == 0, result.output
    assert "  合计权重：+3.322　→ 匹配概率 0.909091" in result.output.splitlines()
    assert "阈值：概率 ≥ 0.9 自动关联；0.5 ～ 0.9 之间进入人工审核；低于 0.5 不关联" in result.output.splitlines()
    missing = cli("explain", "hukou", "NOPE")
    assert missing.exit_code == 1 and _squash("没有找到记录 hukou NOPE") in _squash(missing.output)


def test_export_links_writes_the_csv(cli, tmp_path):
    cli("link", "2026-11-20")
    out = tmp_path / "links.csv"
    result = cli("export", "links", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert _squash("已导出 2026-11-20 的关联结果 8 行") in _squash(result.output)
    assert out.read_bytes().startswith("\ufefffeed,record_key,person_id,household_code,method,probability\r\n".encode())


def test_review_list_then_decide(cli):
    cli("link", "2026-11-20")
    listed = cli("review", "list", "--limit", "10")
    assert listed.exit_code == 0, listed.output
    assert "   1. vehicles V1 hukou H2　概率 0.5025　权重 0.01" in listed.output.splitlines()
    wrong = cli("review", "decide", "vehicles", "V1", "hukou", "H2", "maybe", "--user", "审核员甲")
    assert wrong.exit_code == 1 and _squash("审核结论只能是 same") in _squash(wrong.output)
    unknown = cli("review", "decide", "vehicles", "V9", "hukou", "H2", "same", "--user", "审核员甲")
    assert unknown.exit_code == 1 and _squash("没有找到记录 vehicles V9") in _squash(unknown.output)
    decided = cli("review", "decide", "vehicles", "V1", "hukou", "H2", "different", "--user", "审核员甲")
    assert decided.exit_code == 0, decided.output
    assert _squash(decided.output).startswith(_squash("已记录：vehicles V1 与 hukou H2 不是同一人（审核员甲，"))
    assert cli("review", "list").output.strip() == "没有待审核的配对。"


def test_evaluate_prints_a_chinese_table(cli, monkeypatch):
    import matchers.febrl

    monkeypatch.setattr(
        matchers.febrl,
        "evaluate_febrl",
        lambda name: {"dataset": name, "precision": 0.99875, "true_positives": 4990, "seconds": {"blocking": 1.234}},
    )
    import pipelines.evaluate

    monkeypatch.setattr(
        pipelines.evaluate, "evaluate_delivery", lambda settings, path: {"recall": 0.5, "exact_id": {"f1": 0.985}}
    )
    rows = lambda out: {" ".join(line.replace("│", " ").split()) for line in out.splitlines()}  # noqa: E731
    febrl = cli("evaluate", "febrl4")
    assert febrl.exit_code == 0, febrl.output
    assert {"数据集 febrl4", "精确率 0.998750", "正确关联（真阳性） 4,990", "耗时（秒） · 分块 1.23"} <= rows(febrl.output)
    delivery = cli("evaluate", "some/delivery")
    assert {"召回率 0.500000", "身份证号直接匹配（对照） · F1 0.985000"} <= rows(delivery.output)


def test_run_keeps_the_report_when_linking_fails(sqlite_settings, tmp_path, monkeypatch):
    def broken():
        raise RuntimeError("关联模型文件损坏")

    monkeypatch.setattr(basemap, "default_linker", broken)
    delivery = tmp_path / "drop" / "2026-11-20"
    delivery.mkdir(parents=True)
    with open(SEED_HUKOU, "rb") as src, open(delivery / "hukou.csv", "wb") as dst:
        dst.writelines(line for _, line in zip(range(4), src))
    shutil.copy(SEED_HUKOU.with_name("regions.csv"), delivery)
    result = CliRunner().invoke(app, ["run", str(delivery)], env=_env(sqlite_settings))
    assert result.exit_code == 1
    assert _squash("关联失败（校验报告已生成）：RuntimeError: 关联模型文件损坏") in _squash(result.output)
    assert (sqlite_settings.reports_dir / "2026-11-20" / "validation.json").is_file()
