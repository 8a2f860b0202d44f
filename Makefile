# Everything a developer or CI needs, from a bare Debian 12 machine.
# `make demo` and `make test` do all the set-up themselves.

SHELL := /bin/bash
PY_SYS := /usr/bin/python3
# The venv; the QGIS matrix chroots use their own (tools/matrix/run.sh sets VENV).
VENV ?= .venv
PY := $(VENV)/bin/python
BUILD := build
PLUGIN := arcgis_gp
APT_PACKAGES := qgis python3-qgis qgis-providers gdal-bin python3-gdal xvfb xauth
# The QGIS versions `make test-matrix` runs in (Debian chroots, see tools/matrix/).
MATRIX ?= qgis-3.40 qgis-3.44
export QT_QPA_PLATFORM ?= offscreen
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup apt venv link test test-matrix lint qgis4-fix unit serve demo zip bench clean

setup: apt $(VENV)/.deps-stamp link

# Installs only the Debian packages that are missing.
apt:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "apt-get install:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(VENV)/bin/python:
	$(PY_SYS) -m venv --system-site-packages $(VENV)

$(VENV)/.deps-stamp: requirements-dev.txt $(VENV)/bin/python
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

# The plugin is importable as `arcgis_gp` through a .pth file pointing at build/link.
# Written on every run: a venv that outlives its checkout (a matrix chroot's, reused by the
# next fresh clone) must point at the checkout being tested.
link: $(VENV)/bin/python
	@mkdir -p $(BUILD)/link
	@ln -sfn "$(CURDIR)" $(BUILD)/link/$(PLUGIN)
	@$(PY) -c 'import site,sys; open(site.getsitepackages()[0] + "/arcgis_gp_dev.pth", "w").write(sys.argv[1] + "\n")' "$(CURDIR)/$(BUILD)/link"

# QGIS 4 readiness (tools/qgis4_lint.py): enum values through their enum, no Qt5-only API.
# QGIS4_LINT_SKIP: files to leave out; `make qgis4-fix` rewrites what can be rewritten.
QGIS4_LINT_PATHS := __init__.py plugin.py esrijson gp_client provider ui tests tools benchmarks
QGIS4_LINT_SKIP ?=

lint: setup
	$(VENV)/bin/ruff check .
	$(PY) tools/qgis4_lint.py $(addprefix --skip ,$(QGIS4_LINT_SKIP)) $(QGIS4_LINT_PATHS)

qgis4-fix: setup
	$(PY) tools/qgis4_lint.py --fix $(addprefix --skip ,$(QGIS4_LINT_SKIP)) $(QGIS4_LINT_PATHS)

# pytest-qgis keeps a QGIS profile in .qgis-settings: start every run from a clean one.
test: setup lint
	rm -rf .qgis-settings
	$(PY) -m pytest

# The whole suite and a user's session on other QGIS versions, in Debian chroots built (or
# upgraded) under /var/cache/arcgis-gp-matrix; MATRIX=qgis-3.44 runs one.
test-matrix:
	tools/matrix/run.sh $(MATRIX)

unit: setup
	$(PY) -m pytest tests/unit

serve: setup
	$(PY) -m tests.gpserver --port $${PORT:-8399}

demo: setup
	$(PY) tools/demo.py

zip: setup
	$(PY) tools/build_zip.py --output dist/$(PLUGIN).zip

bench: setup
	@set -e; for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b; done

clean:
	rm -rf $(BUILD) dist .pytest_cache
