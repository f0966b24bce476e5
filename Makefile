# cancuoc: `make demo` runs the main story, `make test` checks everything. Both bootstrap .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test lint typecheck pytest pytest-compiled compiled demo bench wheel clean

$(STAMP): pyproject.toml setup.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing cancuoc and its dev tools into $(VENV) (log: $(VENV)/install.log)"
	@$(BIN)/python -m pip install --upgrade pip 'setuptools>=77' -e '.[dev]' > $(VENV)/install.log 2>&1 \
		|| (tail -30 $(VENV)/install.log; exit 1)
	@touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck pytest pytest-compiled

# The compiled build (setup.py, `[tool.cancuoc] compiled`): a copy of the code in $(COMPILED) with the hot
# protocol-core modules compiled by mypyc beside their source, so the working tree stays pure Python.
COMPILED := .build/compiled
SOURCES := $(shell find shared client server bench tests -name '*.py' -o -name '*.json' -o -name '*.yml' 2>/dev/null)
# Tests that drive the compiled modules: the protocol core, its hostile inputs, issuance and its refusals,
# the store's fast paths, the API fuzzed (compiled code raises TypeError on a wrongly typed argument: it must
# never become a 500) and the clinic's check end to end (real processes, which inherit PYTHONPATH).
COMPILED_TESTS := tests/test_audit_cli.py tests/test_credentials.py tests/test_dcql.py tests/test_fuzz_parsers.py \
	tests/test_interop_reference.py tests/test_jose_parity.py tests/test_negative_core.py \
	tests/test_oid4vci_messages.py tests/test_oid4vp_chains.py tests/test_oid4vp_request.py \
	tests/test_oid4vp_status.py tests/test_oid4vp_verify.py tests/test_properties.py \
	tests/test_sdjwt_prepared.py tests/test_statuslist.py tests/test_tamper.py tests/test_vectors_sdjwt.py \
	tests/test_verifier_checker.py tests/test_wallet_present_refusals.py tests/test_e2e_presentation.py \
	tests/test_verifier_cli.py tests/test_server_issuance_negative.py tests/test_server_issuance_flow.py \
	tests/test_server_concurrency.py tests/test_server_fast_credential.py tests/test_server_status.py \
	tests/test_store_prepared.py tests/test_store_groups.py tests/test_flow.py \
	tests/test_api_fuzz.py tests/test_server_limits.py tests/test_server_app.py tests/test_wallet_present.py \
	tests/test_server_relay_response.py

$(COMPILED)/.built: $(STAMP) setup.py pyproject.toml $(SOURCES)
	@rm -rf $(COMPILED) && mkdir -p $(COMPILED)
	@cp -r shared client server bench tests setup.py pyproject.toml README.md $(COMPILED)/
	@find $(COMPILED) -name __pycache__ -prune -exec rm -rf {} +
	@echo "compiling the hot modules with mypyc into $(COMPILED) (log: $(COMPILED)/build.log)"
	@cd $(COMPILED) && CANCUOC_COMPILE=1 $(CURDIR)/$(BIN)/python setup.py build_ext --inplace > build.log 2>&1 \
		|| (tail -30 build.log; exit 1)
	@touch $@

compiled: $(COMPILED)/.built

# mypyc needs a C compiler and Python's headers: without them the compiled run is skipped, unless CI=true.
CAN_COMPILE := $(shell command -v cc >/dev/null 2>&1 && $(PYTHON) -c 'import os, sys, sysconfig; \
	sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' && echo yes)

ifeq ($(CAN_COMPILE)$(CI),)
pytest-compiled:
	@echo "pytest-compiled: skipped, no C compiler or Python headers here (with CI=true it fails instead)"
else
pytest-compiled: $(COMPILED)/.built
	@cd $(COMPILED) && PYTHONPATH=$(CURDIR)/$(COMPILED) $(CURDIR)/$(BIN)/python -c 'import sys, bench.core; \
		sys.exit(None if bench.core.compiled() else "pytest-compiled would test the pure-Python modules")'
	cd $(COMPILED) && PYTHONPATH=$(CURDIR)/$(COMPILED) $(CURDIR)/$(BIN)/pytest -p no:cacheprovider $(COMPILED_TESTS)
endif

wheel: $(STAMP)
	CANCUOC_COMPILE=1 $(BIN)/python -m pip wheel --no-build-isolation --no-deps -w dist .

demo: $(STAMP)
	$(BIN)/cancuoc demo

# As shipped (`make wheel`): compiled; the verifier's figure in pure Python follows for comparison.
ifeq ($(CAN_COMPILE),yes)
bench: $(COMPILED)/.built
	cd $(COMPILED) && PYTHONPATH=$(CURDIR)/$(COMPILED) $(CURDIR)/$(BIN)/python -m bench
	$(BIN)/python -m bench --only-verifier --verifier-runs 5
else
bench: $(STAMP)
	@echo "bench: no C compiler or Python headers here, so the pure-Python build is measured"
	$(BIN)/python -m bench
endif

clean:
	rm -rf $(VENV) .build build dist .mypy_cache .ruff_cache .pytest_cache .hypothesis
