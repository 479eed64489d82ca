# make run  : fresh machine -> .venv, install, migrate, demo users, static files, Daphne on 127.0.0.1:8000
# make test : dev requirements + the whole suite (ruff, ESLint, node --test, pytest)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format install install-dev install-js bench clean messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt

install-dev: $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt

# ESLint, pinned in package.json + package-lock.json; reinstalled when the lockfile changes.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

install-js: node_modules/.package-lock.json

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py collectstatic --noinput -v 0
	@echo "Serving on http://$(HOST):$(PORT)/ (Ctrl+C stops)"
	$(BIN)/python -m chatsite.serve -b $(HOST) -p $(PORT) chatsite.asgi:application

test: install-dev install-js
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	node_modules/.bin/eslint static tests/js
	node --test tests/js/
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-dev install-js
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	node_modules/.bin/eslint static tests/js

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The translations (locale/zh_Hans/LC_MESSAGES): collect the texts of the templates and
# Python (makemessages) and of the UI's modules (jsmessages), then, after translating the
# .po files, compile the .mo files (GNU gettext's msgfmt: apt-get install gettext), which
# are committed. tests/test_i18n.py fails on an untranslated text or a stale .mo.
messages: install
	$(BIN)/python manage.py makemessages -l zh_Hans -d django -e html,txt,py --no-location --ignore=.venv --ignore=node_modules \
		--ignore=static --ignore=tests --ignore=bench --ignore=deploy --ignore=staticfiles --ignore=media
	$(BIN)/python manage.py jsmessages
	$(BIN)/python manage.py compilemessages -l zh_Hans --ignore=.venv --ignore=node_modules

bench: install-dev
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) node_modules db.sqlite3 db.sqlite3-* media staticfiles .pytest_cache
