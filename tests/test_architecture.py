"""The house rules the import-linter contracts cannot say: the DAG and the CLI use only the entry
points each package lists in `__all__`, and every package lists its entry points."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PIPELINES = ROOT / "pipelines"
TOP_MODULES = {"pipelines.settings", "pipelines.errors", "pipelines.results"}
PACKAGES = sorted(p.name for p in PIPELINES.iterdir() if (p / "__init__.py").exists())


def _pipeline_imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, module, names) of every `from pipelines… import …` in a file, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "pipelines":
            found.append((node.lineno, node.module, [alias.name for alias in node.names]))
    return found


def _outside_public_api(path: Path, own_package: str | None = None) -> list[str]:
    wrong = []
    for line, module, names in _pipeline_imports(path):
        if module in TOP_MODULES or (own_package and module.startswith(own_package + ".")):
            continue
        if module.count(".") != 1:
            wrong.append(f"{path.name}:{line} imports from {module} (a module inside a package)")
            continue
        public = set(getattr(importlib.import_module(module), "__all__", ()))
        wrong += [f"{path.name}:{line} imports {n} from {module}, not in its __all__" for n in names if n not in public]
    return wrong


@pytest.mark.parametrize("path", sorted((ROOT / "dags").glob("*.py")), ids=lambda p: p.name)
def test_dags_import_only_package_entry_points(path):
    assert _outside_public_api(path) == []


@pytest.mark.parametrize("path", sorted((PIPELINES / "cli").glob("*.py")), ids=lambda p: p.name)
def test_the_cli_imports_only_package_entry_points(path):
    assert _outside_public_api(path, own_package="pipelines.cli") == []


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_lists_its_entry_points(package):
    module = importlib.import_module(f"pipelines.{package}")
    public = getattr(module, "__all__", None)
    assert public, f"pipelines/{package}/__init__.py has no __all__"
    assert [name for name in public if not hasattr(module, name)] == []


def test_the_rule_catches_an_import_from_inside_a_package(tmp_path):
    sample = tmp_path / "task.py"
    sample.write_text("def t():\n    from pipelines.link.stage import link_night\n    from pipelines.link import Linked\n")
    assert _outside_public_api(sample) == ["task.py:2 imports from pipelines.link.stage (a module inside a package)"]
