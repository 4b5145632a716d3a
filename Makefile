# make test: venv + project + distribution packages the tests use, then pytest.
# make demo: the same set-up, then a broker, a collector and a simulated fleet on this machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# command-or-file:package pairs the tests need from the distribution (a CJK font so that dashboard
# screenshots show Chinese customer names, not boxes; systemd-analyze rates the units; ip and tc build
# the chaos suite's network namespaces; Chromium also prints the monthly value report's PDF, and the
# report's tests read the PDF back with poppler-utils' pdftotext and pdftoppm; PostgreSQL runs the store
# tests' postgres parameter)
SYSTEM_DEPS := mosquitto:mosquitto mosquitto_passwd:mosquitto-clients promtool:prometheus chromium:chromium \
               openssl:openssl /usr/share/fonts/truetype/wqy/wqy-microhei.ttc:fonts-wqy-microhei \
               systemd-analyze:systemd ip:iproute2 tc:iproute2 pdftotext:poppler-utils pg_ctlcluster:postgresql
PYTEST_ARGS ?=

.PHONY: test demo bench chaos setup system-deps clean

# the store tests run on SQLite and on PostgreSQL: the machine's server on 127.0.0.1:5432 (trust
# auth), else a throwaway cluster tests/support/pg_cluster.sh starts (docs/scale.md#tests)
test: setup
	ROBOPULSE_TEST_PG="$$(sh tests/support/pg_cluster.sh start || true)" $(BIN)/python -m pytest -q $(PYTEST_ARGS)

demo: setup
	$(BIN)/robopulse demo

bench: setup
	$(BIN)/python -m bench $(BENCH)

setup: system-deps $(VENV)/.installed

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

# Installs what is missing with apt-get, as root or through sudo; otherwise prints the command.
system-deps:
	@missing=""; for pair in $(SYSTEM_DEPS); do \
	  cmd=$${pair%%:*}; pkg=$${pair##*:}; \
	  command -v $$cmd >/dev/null 2>&1 || [ -x /usr/sbin/$$cmd ] || [ -e "$$cmd" ] || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing distribution packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo"; \
	  else echo "missing packages:$$missing; run: sudo apt-get update && sudo apt-get install -y$$missing" >&2; exit 1; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends$$missing >/dev/null || exit 1; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache test-output

# the chaos suite's long form (docs/chaos.md): 50 robots, 10 minutes behind a lossy, flapping link; root
chaos: setup
	ROBOPULSE_CHAOS=long $(BIN)/python -m pytest -q -s -p no:randomly --timeout 1800 tests/chaos $(PYTEST_ARGS)
