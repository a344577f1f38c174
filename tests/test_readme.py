"""The README's worked examples name things the demo night really has: the ledger chain's clue is
one of the county whose user the example makes (it named another county's clue once)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from pipelines import store
from pipelines.clues.life import load_clues
from pipelines.night import run_night

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SEED = ROOT / "seeds" / "demo" / "2026-11-20"


def _commands(program: str) -> list[list[str]]:
    """Every README command line of `bidui` (continuation lines joined, comments dropped)."""
    text = README.replace("\\\n", " ")
    return [shlex.split(line.split("#")[0]) for line in text.splitlines() if line.strip().startswith(program)]


def test_the_readme_demo_is_the_seed_delivery():
    # seeds/demo/2026-11-20 is what `bidui demo-data --persons 2000 --seed 20261120` writes, so the
    # night below is the one `make demo` runs.
    assert re.findall(r"bidui demo-data --persons (\d+) --seed (\d+) --as-of (\S+)", README) == [("2000", "20261120", SEED.name)]


@pytest.mark.slow
def test_the_ledger_chain_example_approves_a_clue_of_the_example_users_county(sqlite_settings):
    users = {c[3]: c[c.index("--region") + 1] for c in _commands(".venv/bin/bidui user add")}
    approvals = [(c[3], c[c.index("--user") + 1]) for c in _commands(".venv/bin/bidui clue approve")]
    assert approvals, "the README shows no clue approve example"
    run_night(sqlite_settings, SEED)
    county_of = dict(zip(*load_clues(store.connect(sqlite_settings))[["clue_id", "county_code"]].to_dict("list").values()))
    assert [(clue_id, county_of.get(clue_id)) for clue_id, _ in approvals] == [
        (clue_id, users[user]) for clue_id, user in approvals
    ]
