"""The whole night in one process, in the DAG's order: ingest → validate → report → link → clues;
and undoing the newest night when its delivery was wrong."""

from pipelines.night.chain import STAGES, Night, run_night, validate_night
from pipelines.night.undo import NightUndone, undo_night

__all__ = ["STAGES", "Night", "NightUndone", "run_night", "undo_night", "validate_night"]
