"""Airflow components as child processes, each in a session of its own, stopped for sure.

Used by run_cluster.py (`make cluster-test`) and local_airflow.py (`make airflow`). `airflow
standalone` is not used for the latter: on Ctrl-C its scheduler waits forever for its idle
LocalExecutor workers and the dag-processor hangs too (Airflow 3.3.2), so the stop is done here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import psutil  # type: ignore[import-untyped]

__all__ = ["AirflowProcesses", "Failed", "interrupt_on_sigterm"]

ROOT = Path(__file__).resolve().parents[2]


class Failed(Exception):
    """A component or what it ran did not do what it should."""


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def interrupt_on_sigterm() -> None:
    """SIGTERM (make, CI) stops the script as Ctrl-C does; SIGINT too when a shell started it in
    the background with SIGINT ignored."""
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)


@dataclass
class AirflowProcesses:
    """`airflow …` commands started from the repo root, each writing `<logs>/<name>.log`."""

    logs: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def run(self, name: str, env: dict[str, str], *args: str, timeout: float = 300) -> float:
        """Run one Airflow command to its end; seconds taken."""
        start = time.perf_counter()
        with self._log(name) as log:
            done = subprocess.run(
                _airflow_cmd(*args), env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, timeout=timeout, check=False
            )
        if done.returncode:
            raise Failed(f"airflow {' '.join(args)} exited {done.returncode}\n{self.log_tail(name)}")
        return time.perf_counter() - start

    def start(self, name: str, env: dict[str, str], *args: str) -> None:
        """Start a long-running component."""
        with self._log(name) as log:
            # Its own session, so one killpg stops the process with the children it forks.
            self.procs[name] = subprocess.Popen(
                _airflow_cmd(*args), env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise Failed(f"{name} exited with {proc.returncode}\n{self.log_tail(name)}")

    def stop_all(self, grace: float = 20) -> None:
        """SIGTERM every process group started, SIGKILL what is left after `grace` seconds.

        A task process runs in a session of its own, outside its worker's group: every descendant
        is looked up (before and after the grace period) and killed by its pid too.
        """
        family = self._descendants()
        for proc in self.procs.values():
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in self.procs.values():
            with suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
        family += self._descendants()
        for proc in self.procs.values():
            _signal_group(proc, signal.SIGKILL)
            proc.wait()
        for child in family:
            # psutil refuses a pid that now belongs to another process.
            with suppress(psutil.NoSuchProcess):
                child.kill()
        psutil.wait_procs(family, timeout=5)
        self.procs.clear()

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.logs / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return f"--- {path} (last {lines} lines)\n" + "\n".join(text.splitlines()[-lines:])

    def _log(self, name: str) -> IO[bytes]:
        self.logs.mkdir(parents=True, exist_ok=True)
        return (self.logs / f"{name}.log").open("wb")

    def _descendants(self) -> list[psutil.Process]:
        found = []
        for proc in self.procs.values():
            with suppress(psutil.NoSuchProcess):
                found += psutil.Process(proc.pid).children(recursive=True)
        return found


def _airflow_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "airflow", *args]


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
