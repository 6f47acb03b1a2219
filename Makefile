# archivo: two commands. `make run` installs and serves with demo data; `make test` installs and tests.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
export ARCHIVO_HOME ?= $(CURDIR)/var

.PHONY: run test install install-test system system-test demo serve clean-var lint

run: install
	$(BIN)/archivo init
	$(BIN)/archivo demo
	$(BIN)/archivo serve --host $(HOST) --port $(PORT)

# The dependency audit runs first (a known vulnerability fails; what it could not look up is
# listed), then the import contracts of docs/architecture.md ([tool.importlinter] in
# pyproject.toml; their report is shown only when one is broken), so pytest's summary stays
# the last line. pytest exits 5 when it collected no test: that is a failure here, said plainly.
test: install-test
	@$(BIN)/python scripts/audit_deps.py || exit 1
	@out=$$($(BIN)/lint-imports --no-logo --no-cache 2>&1) || { printf '%s\n' "$$out" >&2; \
	echo "Hay importaciones entre paquetes que no respetan docs/architecture.md (detalle arriba)" >&2; \
	exit 1; }
	@$(BIN)/python -m pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest no ejecutó ninguna prueba" >&2; exit 1; fi; \
	exit $$status

system:
	./scripts/install-system.sh

# The test path also installs Debian's Chromium for the browser tests (tests/e2e/).
system-test:
	./scripts/install-system.sh --pruebas

# The stamp is pip, the last thing venv makes: an interrupted venv is made again.
$(BIN)/pip:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

install: system $(BIN)/pip
	$(BIN)/python -m pip install -q -e '.[postgres,redis]'

install-test: system-test $(BIN)/pip
	$(BIN)/python -m pip install -q -e '.[postgres,redis,test]'

clean-var:
	rm -rf var
