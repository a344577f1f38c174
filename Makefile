# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
BIDUI := $(VENV)/bin/bidui
STAMP := $(VENV)/.installed-stamp
DEMO_DATE ?= 2026-11-20
export BIDUI_DATA_DIR ?= $(CURDIR)/data

.PHONY: install browser demo serve test test-fast bench lint clean vendor-echarts cluster-test airflow airflow-init

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	@$(PY) -m pip --version >/dev/null 2>&1 || $(PY) -m ensurepip >/dev/null
	$(PY) -m pip install -q --disable-pip-version-check "uv==0.13.9"
	$(PY) -m uv pip install -q --python $(PY) -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# The night runs as the demo data officer. On a fresh data directory `user add` may make that first
# prefecture account without signing in; its random password stays in a 0600 file beside the store.
# Whether to make it is asked of the store, not of the file: a password file kept beside a deleted
# store (or a BIDUI_DATABASE_URL naming a fresh database) signs in to nothing.
DEMO_OFFICER ?= demo-officer
DEMO_PASSWORD := $(BIDUI_DATA_DIR)/demo-officer.password
DEMO_SIGN_IN = --user $(DEMO_OFFICER) --password-file $(DEMO_PASSWORD)

demo: install
	$(BIDUI) demo-data --persons 2000 --seed 20261120 --as-of $(DEMO_DATE) --out $(BIDUI_DATA_DIR)/drop
	@{ test -f $(DEMO_PASSWORD) && $(BIDUI) user list --active-only $(DEMO_SIGN_IN) >/dev/null 2>&1; } || \
	{ umask 077 && \
	  $(PY) -c 'import secrets; print(secrets.token_urlsafe(18))' > $(DEMO_PASSWORD).new && \
	  $(BIDUI) user add $(DEMO_OFFICER) --role prefecture --region 5227 --display-name 演示数据管理员 \
	    --password-stdin < $(DEMO_PASSWORD).new && \
	  mv $(DEMO_PASSWORD).new $(DEMO_PASSWORD); } || \
	{ rm -f $(DEMO_PASSWORD).new; \
	  echo "演示数据管理员 $(DEMO_OFFICER) 无法用 $(DEMO_PASSWORD) 登录，库中又已有启用的市（州）数据管理员：请用该管理员为 $(DEMO_OFFICER) 重设密码并写入此文件" >&2; \
	  exit 1; }
	$(BIDUI) run $(BIDUI_DATA_DIR)/drop/$(DEMO_DATE) $(DEMO_SIGN_IN)

# The monitoring site on the demo store (or whatever BIDUI_DATA_DIR / BIDUI_DATABASE_URL name).
SERVE_PORT ?= 8000
serve: install
	$(BIDUI) serve --port $(SERVE_PORT)

# Apache ECharts is vendored (the site loads nothing from another host): fetch the pinned npm
# release again and check it is byte for byte the file committed (pipelines/web/static/vendor/echarts/VENDORED.md).
ECHARTS_VERSION := 6.1.0
ECHARTS_SHA256 := 61f13280aba3161f77fc801bf5f9c786f55f10432153a0683fc5cc0700b013d5
ECHARTS_DIR := pipelines/web/static/vendor/echarts
vendor-echarts:
	@tmp=$$(mktemp -d) && cd $$tmp && npm pack -q echarts@$(ECHARTS_VERSION) >/dev/null && tar xzf echarts-$(ECHARTS_VERSION).tgz && \
	  echo "$(ECHARTS_SHA256)  package/dist/echarts.common.min.js" | sha256sum -c --quiet - && \
	  cp package/dist/echarts.common.min.js package/LICENSE package/NOTICE $(CURDIR)/$(ECHARTS_DIR)/ && \
	  rm -rf $$tmp && echo "ECharts $(ECHARTS_VERSION) 已更新到 $(ECHARTS_DIR)（sha256 一致）"

# Compiled bytecode is kept under the venv, outside the source tree: with PYTHONDONTWRITEBYTECODE
# set and no cache, every xdist worker compiles pandas, Great Expectations and recordlinkage anew.
test test-fast: export PYTHONDONTWRITEBYTECODE :=
test test-fast: export PYTHONPYCACHEPREFIX := $(CURDIR)/$(VENV)/pycache

# The browser test (tests/browser) drives Debian's Chromium through its chromedriver, never a
# downloaded browser; a CJK font makes its screenshots readable. Without them, and when apt-get
# cannot install them, it skips (fails when CI=true).
CHROMIUM := /usr/bin/chromium
CHROMEDRIVER := /usr/bin/chromedriver
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
# WeasyPrint embeds only the glyphs a PDF uses; HarfBuzz does that in ~0.3 s where the pure-Python
# fallback takes 3–9 s for a CJK font.
HB_SUBSET := /usr/lib/$(shell uname -m)-linux-gnu/libharfbuzz-subset.so.0
AS_ROOT := $(if $(filter 0,$(shell id -u)),,sudo -n)
APT_INSTALL := $(AS_ROOT) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-wqy-microhei libharfbuzz-subset0 >/dev/null
browser:
	@test -x $(CHROMIUM) && test -x $(CHROMEDRIVER) && test -f $(CJK_FONT) && test -f $(HB_SUBSET) || { \
	  echo "安装浏览器测试与 PDF 所需的 Debian chromium、chromium-driver、中文字体 fonts-wqy-microhei 与 libharfbuzz-subset0（apt-get install）"; \
	  $(APT_INSTALL) || { $(AS_ROOT) apt-get update -qq >/dev/null && $(APT_INSTALL); } || \
	  echo "未能安装 chromium（需 root 或免密 sudo）：浏览器测试将跳过，CI=true 时失败" >&2; }

test: install browser
	$(VENV)/bin/lint-imports --no-logo
	$(PY) -m pytest -q -n 2 --dist loadgroup
	$(PY) $(CLUSTER_TEST)

# The quality gate, as .pre-commit-config.yaml runs it: lint, format, types, import layers
# (import-linter reads its contracts from [tool.importlinter] in pyproject.toml).
LINT_PATHS := pipelines matchers expectations dags tests
lint: install
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)
	$(VENV)/bin/mypy pipelines matchers expectations dags
	$(VENV)/bin/lint-imports --no-logo

# The unit tier, for every edit: no PostgreSQL, no Airflow, no whole deliveries (under a minute).
# `make test` stays the whole suite, as CI runs it (.ci/run).
test-fast: install
	$(PY) -m pytest -q -n 2 --dist loadgroup -m "not slow and not postgres and not airflow"

# Every script in tests/benchmarks/ at one size, each printing its figures. The rules and clues
# benchmarks read a night ingested, validated and linked here (no clues yet, so the first clue
# run issues them all); that store is made afresh each time, the demo delivery once per size.
BENCH_PERSONS ?= 20000
BENCH_CLUES ?= $(BENCH_PERSONS)
BENCH_RUNS ?= 3
BENCH_SEED ?= 7
BENCH_DIR ?= /tmp/bidui-bench-$(BENCH_PERSONS)
BENCH_DELIVERY := $(BENCH_DIR)/drop-$(BENCH_PERSONS)-$(BENCH_SEED)/$(DEMO_DATE)
BENCH_NIGHT := $(BENCH_DIR)/night
BENCHMARKS := tests/benchmarks
bench: export BIDUI_DATA_DIR := $(BENCH_NIGHT)
bench: export BIDUI_PROGRESS := 0
bench: install
	test -d $(BENCH_DELIVERY) || $(BIDUI) demo-data --persons $(BENCH_PERSONS) --seed $(BENCH_SEED) --as-of $(DEMO_DATE) --out $(dir $(BENCH_DELIVERY))
	rm -rf $(BENCH_NIGHT)
	mkdir -p $(BENCH_NIGHT) && umask 077 && $(PY) -c 'import secrets; print(secrets.token_urlsafe(18))' > $(BENCH_NIGHT)/officer.password
	$(BIDUI) user add bench-officer --role prefecture --region 5227 --password-stdin < $(BENCH_NIGHT)/officer.password
	$(BIDUI) ingest $(BENCH_DELIVERY) --user bench-officer --password-file $(BENCH_NIGHT)/officer.password
	$(BIDUI) validate $(DEMO_DATE) --user bench-officer --password-file $(BENCH_NIGHT)/officer.password
	$(BIDUI) link $(DEMO_DATE) --user bench-officer --password-file $(BENCH_NIGHT)/officer.password
	$(PY) $(BENCHMARKS)/bench_dag_parse.py --runs $(BENCH_RUNS)
	$(PY) $(BENCHMARKS)/bench_ingest.py --persons $(BENCH_PERSONS) --seed $(BENCH_SEED) --runs $(BENCH_RUNS) --work $(BENCH_DIR)
	$(PY) $(BENCHMARKS)/bench_checks.py --rows $(BENCH_PERSONS) --runs $(BENCH_RUNS)
	$(PY) $(BENCHMARKS)/bench_febrl.py --runs $(BENCH_RUNS) --scale $$(($(BENCH_PERSONS) / 5)) $(BENCH_PERSONS)
	$(PY) $(BENCHMARKS)/bench_basemap.py --persons $(BENCH_PERSONS) --runs $(BENCH_RUNS) --work $(BENCH_DIR)/basemap
	$(PY) $(BENCHMARKS)/bench_rules.py --store $(BENCH_NIGHT) --day $(DEMO_DATE) --runs $(BENCH_RUNS)
	$(PY) $(BENCHMARKS)/bench_clue_night.py --store $(BENCH_NIGHT) --day $(DEMO_DATE)
	$(PY) $(BENCHMARKS)/bench_ledger_import.py --clues $(BENCH_CLUES) --runs $(BENCH_RUNS) --work $(BENCH_DIR)/ledgers
	$(PY) $(BENCHMARKS)/bench_stability.py --delivery $(BENCH_DELIVERY) --work $(BENCH_DIR)/stability
	$(PY) $(BENCHMARKS)/bench_readers.py --rows $$(($(BENCH_PERSONS) * 50)) --xlsx-rows $$(($(BENCH_PERSONS) * 10)) --runs $(BENCH_RUNS)
	$(PY) $(BENCHMARKS)/bench_night.py --persons $(BENCH_PERSONS) --runs $(BENCH_RUNS) --seed $(BENCH_SEED) --as-of $(DEMO_DATE) --delivery $(BENCH_DELIVERY) --work $(BENCH_DIR)/whole-night $(if $(BENCH_POSTGRES),--postgres $(BENCH_POSTGRES))

# The nightly DAG on Airflow's CeleryExecutor (PostgreSQL metadata, Redis broker): api-server,
# scheduler, dag-processor and two Celery workers of its own, a fresh database, schemas and Redis
# db number, all removed afterwards. `make test` runs it last; it skips without PostgreSQL or Redis
# (fails when CI=true).
CLUSTER_TEST := tests/cluster/run_cluster.py
cluster-test: install
	$(PY) $(CLUSTER_TEST)

# Airflow on this machine for a person to look at (tests/cluster/local_airflow.py): api-server,
# scheduler, dag-processor and triggerer, LocalExecutor on SQLite in .airflow/, bidui's DAGs over the
# demo store, on 127.0.0.1 only, schedules off (runs start by hand). What `airflow standalone` runs,
# but it stops on Ctrl-C. `airflow-init` readies .airflow/ for `airflow dags test` as well.
AIRFLOW_PORT ?= 8080
AIRFLOW_ENV = PATH="$(CURDIR)/$(VENV)/bin:$$PATH" AIRFLOW_HOME="$(CURDIR)/.airflow" \
  AIRFLOW__CORE__DAGS_FOLDER="$(CURDIR)/dags" AIRFLOW__CORE__LOAD_EXAMPLES=False
airflow-init: install
	$(AIRFLOW_ENV) airflow db migrate
airflow: airflow-init
	@$(AIRFLOW_ENV) $(PY) tests/cluster/local_airflow.py --port $(AIRFLOW_PORT)

clean:
	rm -rf $(VENV) data .pytest_cache
