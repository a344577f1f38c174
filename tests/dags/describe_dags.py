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
            "expression": getattr(timetable, "expression", None),
            "timezone": str(getattr(timetable, "timezone", "")),
        },
        "params": {name: dag.params.get_param(name).value for name in dag.params},
        "has_doc_md": bool(dag.doc_md),
        "tasks": {
            task.task_id: {
                "retries": task.retries,
                "mapped": bool(getattr(task, "is_mapped", False)),
                "upstream": sorted(task.upstream_task_ids),
                "downstream": sorted(task.downstream_task_ids),
            }
            for task in dag.tasks
        },
    }


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
