"""Airflow's ``[core] hostname_callable`` for the cluster test's Celery workers.

Both workers run on one machine, so the fully qualified domain name Airflow records on a task
instance would be the same for both. Each worker (and so every supervisor and task process it
starts) carries its own name in ``CLUSTER_WORKER_HOSTNAME``, the name its Celery node has too.
"""

from __future__ import annotations

import os
import socket

__all__ = ["hostname"]


def hostname() -> str:
    """The worker's own name, or this machine's FQDN outside a cluster-test worker."""
    return os.environ.get("CLUSTER_WORKER_HOSTNAME") or socket.getfqdn()
