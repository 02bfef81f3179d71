# `make demo` and `make test` work on a fresh machine: they create .venv/, install the
# Python dependencies and build the native module (release) once, then run.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEPS_STAMP := $(VENV)/.deps-stamp
BUILD_STAMP := $(VENV)/.build-stamp
NATIVE_SOURCES := $(shell find crates -name '*.rs' -o -name Cargo.toml 2>/dev/null) Cargo.toml Cargo.lock

.PHONY: all setup demo test test-rust test-python lint clean

all: setup

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Python tools and dependencies (re-run when pyproject.toml changes).
$(DEPS_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "maturin==1.16.0"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		$$($(BIN)/python -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; print(" ".join(p["dependencies"] + p["optional-dependencies"]["dev"] + p["optional-dependencies"]["sklearn"] + p["optional-dependencies"]["serve"] + p["optional-dependencies"]["ray"] + p["optional-dependencies"]["data"]))')
	touch $@

# The native module, built in release mode and installed editable into .venv
# (re-run when any Rust source, manifest or the lock file changes).
$(BUILD_STAMP): $(DEPS_STAMP) $(NATIVE_SOURCES)
	VIRTUAL_ENV=$(CURDIR)/$(VENV) PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/maturin develop --release
	touch $@

setup: $(BUILD_STAMP)

demo: setup
	$(BIN)/zkgrad demo --out demo-out

test: test-rust test-python

test-rust: setup
	cargo test --release --workspace

test-python: setup
	$(BIN)/pytest -q tests

# `make demo-evaluation`: three hospitals commit their splits of the bundled records, enroll
# them, prove their properties and attest one shared model's accuracy on them; a verifier checks
# every bundle, pools the verified figures, plots them, and names what fails in the tampered
# bundles (python/zkgrad/demo_evaluation.py).
.PHONY: demo-evaluation
demo-evaluation: setup
	$(BIN)/python -m zkgrad.demo_evaluation --out demo-evaluation-out

# `make demo-service`: `zkgrad serve` on the bundled model, a few clients sending requests,
# every answer verified in the client, and the figures (benches/serve_load.py --demo).
.PHONY: demo-service
demo-service: setup
	$(BIN)/python benches/serve_load.py --demo

lint: $(DEPS_STAMP)
	$(BIN)/ruff check python tests scripts
	$(BIN)/ruff format --check python tests scripts

clean:
	rm -rf $(VENV) demo-out demo-evaluation-out

# `make bench`: zkgrad vs EZKL on the same ONNX files (benches/README.md). EZKL lives only in
# benches/.venv, never in the package's dependencies. BENCH_ARGS passes flags, e.g. --quick.
BENCH_VENV := benches/.venv
BENCH_ARGS ?=
.PHONY: bench
bench: setup
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r benches/requirements.txt
	$(BENCH_VENV)/bin/python benches/run.py $(BENCH_ARGS)
	$(MAKE) --no-print-directory bench-cnn

# `make bench-cnn`: the VGG-16- and ResNet-18-shaped CNNs on CIFAR-10 input (issue 14) through
# compile -> prove -> verify, one step at a time, each killed past CNN_MEM_GB GiB resident
# (benches/cnn_shapes.py; zkgrad only, also run by `make bench`). CNN_ARGS passes flags, e.g.
# --div 8,4,2 (widths divided) or --models resnet18.
CNN_ARGS ?=
CNN_MEM_GB ?= 12
.PHONY: bench-cnn
bench-cnn: setup
	$(BIN)/python benches/cnn_shapes.py --mem-limit-gb $(CNN_MEM_GB) $(CNN_ARGS)

# `make fuzz`: the verifier under a million mutated proofs, epoch certificates and data-property
# proofs (crates/zkgrad-fuzz; not part of
# `make test`). FUZZ_EXECS executions over FUZZ_JOBS processes; findings go to target/fuzz-findings.
FUZZ_EXECS ?= 1000000
FUZZ_JOBS ?= 2
FUZZ_SEED ?= 1
.PHONY: fuzz
fuzz:
	cargo build --release -p zkgrad-fuzz
	target/release/zkgrad-fuzz --execs $(FUZZ_EXECS) --jobs $(FUZZ_JOBS) --seed $(FUZZ_SEED) --out target/fuzz-findings

# `make epochs`: 1,000 proofs with one published model digest through the epoch tree, every one
# verified against it (benches/epochs.py; not part of `make test`). EPOCHS_ARGS passes flags,
# e.g. --proofs 10000 or --model mlp_small.
EPOCHS_ARGS ?=
.PHONY: epochs
epochs: setup
	$(BIN)/python benches/epochs.py $(EPOCHS_ARGS)

# `make conformance`: ONNX's own node tests of every op the importer claims, through compile ->
# prove -> verify (benches/conformance.py; not part of `make test`). Writes benches/CONFORMANCE.md.
# CONFORMANCE_ARGS passes flags, e.g. --ops Gemm,MatMul or --timeout 60.
CONFORMANCE_ARGS ?=
.PHONY: conformance
conformance: setup
	ZKGRAD_ZK_BUDGET=warn $(BIN)/python benches/conformance.py $(CONFORMANCE_ARGS)

# `make corpus`: every model of EZKL's example corpus through compile → prove → verify
# (benches/corpus.py; not part of `make test`). Writes benches/CORPUS.md and benches/corpus.json.
# CORPUS_DIR defaults to ../shared/corpus/ezkl_examples; CORPUS_ARGS passes flags, e.g.
# --models 1l_mlp,1l_conv or --timeout 300.
CORPUS_DIR ?=
CORPUS_ARGS ?=
.PHONY: corpus
corpus: setup
	$(BIN)/python benches/corpus.py $(if $(CORPUS_DIR),--corpus $(CORPUS_DIR)) $(CORPUS_ARGS)
