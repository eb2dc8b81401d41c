# The two commands of the README. Both set up what they need first (scripts/setup.sh).
PY := .venv/bin/python
PORT ?= 7860

.PHONY: run test setup setup-dev bench

run: setup
	$(PY) app.py --port $(PORT)

test: setup-dev
	OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False $(PY) -m pytest

setup:
	scripts/setup.sh

setup-dev:
	scripts/setup.sh --dev

bench: setup
	OMP_NUM_THREADS=1 $(PY) bench/run_all.py
