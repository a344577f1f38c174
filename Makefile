# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
BIDUI := $(VENV)/bin/bidui
STAMP := $(VENV)/.installed-stamp
DEMO_DATE ?= 2026-11-20
export BIDUI_DATA_DIR ?= $(CURDIR)/data

.PHONY: install demo test bench clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	@$(PY) -m pip --version >/dev/null 2>&1 || $(PY) -m ensurepip >/dev/null
	$(PY) -m pip install -q --disable-pip-version-check "uv==0.13.9"
	$(PY) -m uv pip install -q --python $(PY) -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIDUI) demo-data --persons 2000 --seed 20261120 --as-of $(DEMO_DATE) --out $(BIDUI_DATA_DIR)/drop
	$(BIDUI) run $(BIDUI_DATA_DIR)/drop/$(DEMO_DATE)

test: install
	$(PY) -m pytest -q -n 2 --dist loadgroup

clean:
	rm -rf $(VENV) data .pytest_cache
