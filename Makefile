# The two commands: `make run` and `make test`. Everything else is a helper for them.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
SHUANGSUI := $(VENV)/bin/shuangsui
PLUGINS := commerce agriculture emergency market environment
HOST ?= 127.0.0.1
PORT ?= 8800
PLATFORM_PORT ?= 8900
DEMO_TARGETS ?= 20000
PYTEST_ARGS ?=

.PHONY: install run test test-extra-plugin bench openapi screenshots clean

$(VENV)/.installed: pyproject.toml $(wildcard plugins/*/pyproject.toml)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]' $(foreach p,$(PLUGINS),-e plugins/$(p))
	touch $@

install: $(VENV)/.installed

# The gateway, plus in the background the mock provincial platform on PLATFORM_PORT (state in
# instance/mock_platform.sqlite) and a sync worker pushing what the demo publishes to it; stopping
# the gateway stops both (gateway/cli/devstack.py).
run: install
	$(SHUANGSUI) db upgrade
	$(SHUANGSUI) demo load --targets $(DEMO_TARGETS) --base-url http://$(HOST):$(PORT)
	$(PY) -m gateway.cli.devstack --host $(HOST) --port $(PORT) --platform-port $(PLATFORM_PORT) \
		--platform-state instance/mock_platform.sqlite

test: install
	$(VENV)/bin/ruff check .
	@$(PY) -m tests.pg_status || true
	$(PY) -m pytest -n auto $(PYTEST_ARGS)

# The suite again with a sixth, scaffolded department plugin installed (a CI leg): the core's
# tests must hold with any extra well-formed plugin.
EXTRA_PLUGIN := $(CURDIR)/instance/extra-plugin
test-extra-plugin: install
	rm -rf $(EXTRA_PLUGIN) && mkdir -p $(EXTRA_PLUGIN)
	$(SHUANGSUI) plugin new public_hygiene --dest $(EXTRA_PLUGIN)/src --department-name 武陟县卫生健康委员会
	$(PY) -m pip install --quiet --no-deps --target $(EXTRA_PLUGIN)/site $(EXTRA_PLUGIN)/src/public_hygiene
	PYTHONPATH=$(EXTRA_PLUGIN)/site $(PY) -m pytest -n auto $(PYTEST_ARGS)

bench: install
	$(PY) bench/import.py

# Screenshots of the main pages into docs/screenshots/ (needs /usr/bin/chromium and a CJK font:
# apt-get install chromium fonts-noto-cjk).
screenshots: install
	$(PY) -m tests.web.screenshots --out docs/screenshots

openapi: install
	$(SHUANGSUI) openapi -o schemas/openapi/gateway.json

clean:
	rm -rf $(VENV) instance .pytest_cache
