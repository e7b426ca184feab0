# Two entry points for a newcomer on a fresh Debian machine with Python 3.11:
#   make demo   install everything, build the demo studies, open the app
#   make test   install everything, run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
DEMO   ?= demo-studies

.PHONY: demo test system-deps install bench clean

# Debian libraries Qt needs (offscreen and xcb), Xvfb for screenshots, poppler for
# looking at the PDF report.  Skipped when not root or without apt-get.
system-deps:
	@if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  missing=$$(for p in libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 \
	    libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 \
	    libxcb-render-util0 libxcb-image0 xvfb xauth poppler-utils; do \
	    dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	  if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi; \
	else echo "system-deps: not root or no apt-get; assuming Qt's libraries are present"; fi

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -U pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

install: system-deps $(VENV)/.installed

test: install
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/pytest

demo: install
	$(VENV)/bin/readerstudy demo --build $(DEMO)

bench: install
	QT_QPA_PLATFORM=offscreen $(PY) -m tests.benchmarks.viewer
	$(PY) -m tests.benchmarks.stats
	$(PY) -m tests.benchmarks.inference
	QT_QPA_PLATFORM=offscreen $(PY) -m tests.benchmarks.reading
	QT_QPA_PLATFORM=offscreen $(PY) -m tests.benchmarks.startup
	QT_QPA_PLATFORM=offscreen $(PY) -m tests.benchmarks.triage
	$(PY) -m tests.benchmarks.precompute
	QT_QPA_PLATFORM=offscreen $(PY) -m tests.benchmarks.demo
	QT_QPA_PLATFORM=offscreen $(PY) -m tests.benchmarks.wsi
	QT_QPA_PLATFORM=offscreen $(PY) -m tests.benchmarks.region

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache
