"""The whole night in one process, in the DAG's order: ingest → validate → report → link → clues."""

from pipelines.night.chain import STAGES, Night, run_night, validate_night

__all__ = ["STAGES", "Night", "run_night", "validate_night"]
