"""Clues across nights: the rules' findings become clues with a stable identity, a state machine of
user moves with append-only events, and the night's clue stage."""

from pipelines.clues.audit import ClueAudit, ClueMismatch, audit_clues
from pipelines.clues.counts import ALL_RULES, COUNT_COLUMNS, write_night_counts
from pipelines.clues.export import export_clues
from pipelines.clues.life import is_overdue, load_clue, load_clue_events, load_clues
from pipelines.clues.moves import act
from pipelines.clues.stage import ClueNight, counties_with_new_clues, run_clue_night
from pipelines.clues.states import ACTION_LABELS, STATE_LABELS

__all__ = [
    "ACTION_LABELS",
    "ALL_RULES",
    "COUNT_COLUMNS",
    "STATE_LABELS",
    "ClueAudit",
    "ClueMismatch",
    "ClueNight",
    "act",
    "audit_clues",
    "counties_with_new_clues",
    "export_clues",
    "is_overdue",
    "load_clue",
    "load_clue_events",
    "load_clues",
    "run_clue_night",
    "write_night_counts",
]
