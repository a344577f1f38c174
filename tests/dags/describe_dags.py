"""Load a DAG folder into a DagBag and print it as JSON (run as a child process by test_dagbag.py).

Usage: python tests/dags/describe_dags.py <dags folder>
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

__all__ = ["describe_dag", "main"]


def describe_dag(dag: Any) -> dict[str, Any]:
    """The facts the DAG tests check, in plain JSON types."""
    from airflow.serialization.serialized_objects import DagSerialization

    # dags test and the scheduler both serialize the DAG; failing here is cheaper than there.
    DagSerialization.serialize_dag(dag)
    timetable = dag.timetable
    timed = getattr(timetable, "timetable", timetable)  # an AssetOrTimeSchedule's time part
    return {
        "fileloc": dag.fileloc,
        "tags": sorted(dag.tags),
        "default_retries": dag.default_args.get("retries"),
        "catchup": dag.catchup,
        "max_active_runs": dag.max_active_runs,
        "timezone": dag.timezone.name,
        "start_date": dag.start_date.isoformat() if dag.start_date else None,
        "timetable": {
            "class": type(timetable).__name__,
            "expression": getattr(timed, "expression", None),
            "timezone": str(getattr(timed, "timezone", "")),
        },
        "params": {name: dag.params.get_param(name).value for name in dag.params},
        "has_doc_md": bool(dag.doc_md),
        "schedule_assets": sorted(_asset_uris(getattr(timetable, "asset_condition", None))),
        "tasks": {task.task_id: describe_task(task) for task in dag.tasks},
    }


def describe_task(task: Any) -> dict[str, Any]:
    """One task's wiring, retries, limits, callbacks and assets."""
    timeout = task.execution_timeout
    callbacks = task.on_failure_callback or []
    return {
        "retries": task.retries,
        "mapped": bool(getattr(task, "is_mapped", False)),
        "upstream": sorted(task.upstream_task_ids),
        "downstream": sorted(task.downstream_task_ids),
        "execution_timeout": timeout.total_seconds() if timeout is not None else None,
        "on_failure_callback": [c.__qualname__ for c in (callbacks if isinstance(callbacks, list) else [callbacks])],
        "outlets": sorted(a.uri for a in task.outlets),
        "inlets": sorted(a.uri for a in task.inlets),
        "trigger_rule": getattr(task.trigger_rule, "value", task.trigger_rule),
        "sensor": {"mode": task.mode, "poke_interval": task.poke_interval, "timeout": task.timeout}
        if getattr(task, "_is_sensor", False) or hasattr(task, "poke")
        else None,
    }


def _asset_uris(condition: Any) -> list[str]:
    """The URIs of the assets a DAG is scheduled on (none for a time-only schedule)."""
    if condition is None:
        return []
    if hasattr(condition, "uri"):
        return [condition.uri]
    return [uri for inner in getattr(condition, "objects", []) for uri in _asset_uris(inner)]


def main(dags_folder: str) -> None:
    """Print import errors, per-DAG facts and the DagBag fill time as one JSON document."""
    from airflow.dag_processing.dagbag import DagBag

    start = time.perf_counter()
    # Airflow 3.3's DagBag has no include_examples; examples stay out via LOAD_EXAMPLES=False.
    bag = DagBag(dag_folder=dags_folder)
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "seconds": seconds,
                "import_errors": bag.import_errors,
                "dags": {dag_id: describe_dag(dag) for dag_id, dag in bag.dags.items()},
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
