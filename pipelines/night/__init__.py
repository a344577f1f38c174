"""The whole night in one process, in the DAG's order: ingest → validate → report → link → clues;
undoing the newest night when its delivery was wrong; the night's closing snapshot; and a failed
Airflow task recorded for the night page."""

from pipelines.night.chain import STAGES, Night, run_night, validate_night
from pipelines.night.failures import failure_message, record_task_failure
from pipelines.night.snapshot import snapshot_night
from pipelines.night.undo import NightUndone, undo_night

__all__ = [
    "STAGES",
    "Night",
    "NightUndone",
    "failure_message",
    "record_task_failure",
    "run_night",
    "snapshot_night",
    "undo_night",
    "validate_night",
]
