"""`make airflow`: Airflow on this machine with bidui's DAGs over the demo store, for a person to look at.

    .venv/bin/python tests/cluster/local_airflow.py [--port 8080]

What `airflow standalone` starts (api-server, scheduler, dag-processor, triggerer; LocalExecutor on
SQLite in .airflow/, made by `make airflow-init`), but stopped for sure on Ctrl-C (see processes.py).
The environment comes from make (AIRFLOW_HOME, the dags folder, BIDUI_DATA_DIR); the API listens on
127.0.0.1 only. Runs start by hand: the schedules are off, since an unpaused night would otherwise
start for today's data date, wait hours for a delivery the demo never gets, and hold back every
manual run (max_active_runs=1). Each component logs to .airflow/logs/<component>.log.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import urllib.request
from pathlib import Path

from processes import AirflowProcesses, Failed, interrupt_on_sigterm

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    interrupt_on_sigterm()
    home = Path(os.environ["AIRFLOW_HOME"])
    url = f"http://127.0.0.1:{args.port}"
    env = {
        **os.environ,
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(args.port),
        "AIRFLOW__API__BASE_URL": url,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
    }
    processes = AirflowProcesses(logs=home / "logs")
    try:
        for name in COMPONENTS:
            processes.start(name, env, name)
        _wait_for(f"{url}/api/v2/monitor/health", processes)
        print(f"Airflow 已启动：{url}/")
        print(f"用户 admin，密码在 {home / 'simple_auth_manager_passwords.json.generated'}")
        print(f"DAG 目录 {env.get('AIRFLOW__CORE__DAGS_FOLDER')}，比对数据 {env.get('BIDUI_DATA_DIR')}；日志在 {processes.logs}/")
        print("DAG 默认暂停、不按计划运行：启用后手动触发（▶）。Ctrl-C 停止。", flush=True)
        while True:
            processes.check_alive()
            time.sleep(2)
    except Failed as why:
        print(f"Airflow 组件异常退出：{why}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\n正在停止 Airflow …", flush=True)
        return 0
    finally:
        processes.stop_all()
        print("Airflow 已停止。")


def _wait_for(url: str, processes: AirflowProcesses, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        processes.check_alive()
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise Failed(f"{url} did not answer within {timeout:.0f} s\n{processes.log_tail('api-server')}")


if __name__ == "__main__":
    sys.exit(main())
