# The README's two commands, plus lint. The work is done by the scripts in scripts/, which say why they do what
# they do; this file only names them. Scripts are run through bash so a lost executable bit cannot break them.

SHELL := /bin/bash
ARGS ?=

.PHONY: help run test lint bench
.DEFAULT_GOAL := help

help:
	@echo "make run                       demo: web + Celery worker + beat on http://127.0.0.1:\$${PORT:-8000}/"
	@echo "make test                      whole suite on a throwaway PostgreSQL + Redis, then the SQLite subset"
	@echo "make test ARGS=\"-k lifecycle\"  extra pytest arguments, passed to both test runs"
	@echo "make lint                      ruff check + ruff format --check"
	@echo "make bench                     scoring benchmark at 1,000,000 leads (ARGS=\"--leads 100000\" for a quick run)"

run:
	@bash scripts/run.sh

test:
	@bash scripts/test.sh $(ARGS)

lint:
	@bash scripts/lint.sh

bench:
	@bash scripts/bench.sh $(ARGS)
