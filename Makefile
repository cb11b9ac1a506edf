# pixpress: the two commands are `make demo` (the main job) and `make test` (every test).
# One profile (release) and one target directory for everything; it lives
# outside the clone so repeated runs and CI on the same machine reuse it.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/pixpress-target
export PIXPRESS_CORPUS ?= $(abspath ../shared/corpus)
export PIXPRESS_BIN ?= $(CARGO_TARGET_DIR)/release/pixpress
CARGO := cargo

PYTHON_WHEELS := $(CARGO_TARGET_DIR)/wheels

.PHONY: python setup build demo test test-rust test-c test-c-full test-python lint bench bench-ffi clean licenses header examples install

setup:
	bash scripts/setup.sh

# maturin builds the Python extension (below), with its own PyO3 environment.
build: setup
	$(CARGO) build --release --workspace --all-targets --exclude pixpress-python
	$(MAKE) --no-print-directory python

# The Python package: maturin reuses the workspace build (same profile and
# target directory), then pip installs the wheel.
python:
	rm -rf $(PYTHON_WHEELS)
	cd bindings/python && maturin build --release -o $(PYTHON_WHEELS)
	python3 -m pip install -q --force-reinstall --no-deps $(PYTHON_WHEELS)/pixpress-*.whl

# The main job: compress every sample folder of the corpus (JPEG, PNG, WebP,
# AVIF, HEIC, GIF, TIFF) to WebP under out/, resized to fit 1600x1600, and
# print the summary table.
demo: build
	rm -rf out
	$(PIXPRESS_BIN) compress $(addprefix $(PIXPRESS_CORPUS)/,jpeg png webp avif heic gif tiff) -o out --format webp --resize 1600x1600
	@echo "outputs in out/"

test: build test-rust test-c test-python lint

test-rust:
	$(CARGO) test --release --workspace --exclude pixpress-python

# The C ABI: C suite, threads, C++ header, ASan, install + pkg-config + static
# link, examples, and valgrind on the small corpus files (tests/c/run.sh).
test-c:
	bash tests/c/run.sh

# The same with valgrind over the whole corpus (slow).
test-c-full: build
	bash tests/c/run.sh full

# Regenerates include/pixpress.h with cbindgen (the ffi test fails when it is stale).
header:
	PXP_UPDATE_HEADER=1 $(CARGO) test --release -p pixpress-ffi --test header

# Builds the C examples into $(CARGO_TARGET_DIR)/examples-c.
examples:
	mkdir -p $(CARGO_TARGET_DIR)/examples-c
	for e in compress to_webp_dir; do \
		cc -std=c11 -Wall -Wextra -Werror -pedantic -Iinclude examples/c/$$e.c \
			-L$(CARGO_TARGET_DIR)/release -lpixpress -o $(CARGO_TARGET_DIR)/examples-c/$$e || exit 1; \
	done

# Installs libpixpress.so, libpixpress.a (+ libpixpress_heif.a, the libheif it
# embeds), include/pixpress.h and pixpress.pc under PREFIX.
PREFIX ?= /usr/local
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
install:
	install -d $(PREFIX)/lib/pkgconfig $(PREFIX)/include
	install -m 755 $(CARGO_TARGET_DIR)/release/libpixpress.so $(PREFIX)/lib/libpixpress.so
	strip --strip-debug $(PREFIX)/lib/libpixpress.so
	install -m 644 $(CARGO_TARGET_DIR)/release/libpixpress.a $(PREFIX)/lib/libpixpress.a
	install -m 644 "$$(ls -t $(CARGO_TARGET_DIR)/release/build/libheif-sys-*/out/libheif_build/lib/libheif.a | head -1)" \
		$(PREFIX)/lib/libpixpress_heif.a
	install -m 644 include/pixpress.h $(PREFIX)/include/pixpress.h
	sed -e 's|@PREFIX@|$(abspath $(PREFIX))|' -e 's|@VERSION@|$(VERSION)|' ffi/pixpress.pc.in > $(PREFIX)/lib/pkgconfig/pixpress.pc

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
	$(MAKE) --no-print-directory bench-ffi

# The same work through the Rust API and the C ABI, interleaved in one process.
bench-ffi: build
	RAYON_NUM_THREADS=1 $(CARGO) bench -p pixpress-ffi --bench overhead

clean:
	rm -rf out

# Rewrites the crate half of LICENSES.md from the dependency tree.
licenses:
	$(CARGO) tree -e normal --prefix none --format '{p} | {l}' --workspace | sed 's/ (.*)//' | grep -v '^pixpress' | sort -u
