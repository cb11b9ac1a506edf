# pixpress: the two commands are `make demo` (the main job) and `make test` (every test).
# One profile (release) and one target directory for everything; it lives
# outside the clone so repeated runs and CI on the same machine reuse it.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/pixpress-target
export PIXPRESS_CORPUS ?= $(abspath ../shared/corpus)
export PIXPRESS_BIN ?= $(CARGO_TARGET_DIR)/release/pixpress
CARGO := cargo

.PHONY: setup build demo test test-rust test-python lint bench clean licenses

setup:
	bash scripts/setup.sh

build: setup
	$(CARGO) build --release --workspace --all-targets

# The main job: compress every sample folder of the corpus (JPEG, PNG, WebP,
# AVIF, HEIC, GIF, TIFF) to WebP under out/, resized to fit 1600x1600, and
# print the summary table.
demo: build
	rm -rf out
	$(PIXPRESS_BIN) compress $(addprefix $(PIXPRESS_CORPUS)/,jpeg png webp avif heic gif tiff) -o out --format webp --resize 1600x1600
	@echo "outputs in out/"

test: build test-rust test-python lint

test-rust:
	$(CARGO) test --release --workspace

test-python:
	python3 -m pytest tests/python -q

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings

bench: build
	RAYON_NUM_THREADS=1 $(CARGO) bench -p pixpress --bench pipeline
	RAYON_NUM_THREADS=1 $(CARGO) bench -p pixpress --bench pipeline -- rss
	python3 bench/peers.py
	python3 bench/peers.py rss

clean:
	rm -rf out

# Rewrites the crate half of LICENSES.md from the dependency tree.
licenses:
	$(CARGO) tree -e normal --prefix none --format '{p} | {l}' --workspace | sed 's/ (.*)//' | grep -v '^pixpress' | sort -u
