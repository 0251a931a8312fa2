# The two commands a newcomer needs:
#   make demo   builds Coffer and runs its main job on examples/reference
#   make demo-org   the same across an organization: examples/organization, `coffer org check` and `org matrix`
#   make test   runs every test
# Installing (README "Install"):
#   make install [PREFIX=/usr/local] [DESTDIR=…]   the release binary into $(PREFIX)/bin
#   make dist                                      dist/coffer-VERSION-OS-ARCH.tar.gz and its .sha256
.PHONY: demo demo-org test build release deps build-deps bench install dist build-release build-debug

PREFIX ?= /usr/local
# release (static Swift runtime, what install and dist ship) or debug (quick, for trying the targets out).
CONFIG ?= release
# Set SKIP_BUILD=1 to install or package the binary already in .build/$(CONFIG) without building it again.
SKIP_BUILD ?=
BIN := .build/$(CONFIG)/coffer
DISTDIR ?= dist
OS := $(shell uname -s | tr '[:upper:]' '[:lower:]')
ARCH := $(shell uname -m)

# Everything the tests need (age, git, python modules, and what the build needs).
deps:
	@scripts/deps.sh

# Only what building needs: libsodium-dev and pkg-config.
build-deps:
	@scripts/deps.sh build

build: build-deps
	swift build

demo: build
	@scripts/demo.sh

demo-org: build
	@scripts/demo-org.sh

test: deps
	swift build
	swift test

# The release build (docs/architecture.md, "Building for release"): fully static (COFFER_STATIC_LINK=1, Package.swift),
# every function in its own section so that the link lays out the start-up path together (BuildSupport/coffer.order),
# every module's generic code specialized where it is called (-cross-module-optimization), and type metadata reached
# through accessor functions rather than mangled names (-disable-concrete-type-metadata-mangled-name-accessors), so
# that reaching a concrete generic type needs no search of the binary's conformance records.
# SCRATCH=DIR builds in DIR instead of .build; PRODUCT=coffer builds only the tool.
RELEASE_FLAGS := -c release -Xswiftc -static-stdlib -Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections -Xswiftc -cross-module-optimization -Xswiftc -Xfrontend -Xswiftc -disable-concrete-type-metadata-mangled-name-accessors
release: build-deps
	COFFER_STATIC_LINK=1 swift build $(RELEASE_FLAGS) $(if $(PRODUCT),--product $(PRODUCT)) $(if $(SCRATCH),--scratch-path $(SCRATCH))

build-release: release
build-debug: build

# The binary, then completions and the man page once the project has them (share/…); none exist yet.
install: $(if $(SKIP_BUILD),,build-$(CONFIG))
	install -d "$(DESTDIR)$(PREFIX)/bin"
	install -m 0755 "$(BIN)" "$(DESTDIR)$(PREFIX)/bin/coffer"
	@if [ -d share/completions ]; then \
	  install -d "$(DESTDIR)$(PREFIX)/share/bash-completion/completions" "$(DESTDIR)$(PREFIX)/share/zsh/site-functions" "$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d"; \
	  [ ! -f share/completions/coffer.bash ] || install -m 0644 share/completions/coffer.bash "$(DESTDIR)$(PREFIX)/share/bash-completion/completions/coffer"; \
	  [ ! -f share/completions/_coffer ] || install -m 0644 share/completions/_coffer "$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_coffer"; \
	  [ ! -f share/completions/coffer.fish ] || install -m 0644 share/completions/coffer.fish "$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/coffer.fish"; \
	fi
	@if [ -f share/man/coffer.1 ]; then \
	  install -d "$(DESTDIR)$(PREFIX)/share/man/man1" && install -m 0644 share/man/coffer.1 "$(DESTDIR)$(PREFIX)/share/man/man1/coffer.1"; \
	fi
	@echo "installed $(DESTDIR)$(PREFIX)/bin/coffer ($$("$(DESTDIR)$(PREFIX)/bin/coffer" --version))"

# A versioned archive of the binary (with README.md and .pre-commit-hooks.yaml) and its SHA-256, checkable with
# `cd dist && sha256sum -c coffer-VERSION-OS-ARCH.tar.gz.sha256`.
dist: $(if $(SKIP_BUILD),,build-$(CONFIG))
	@set -eu; \
	version=$$("$(BIN)" --version); name="coffer-$$version-$(OS)-$(ARCH)"; \
	stage=$$(mktemp -d); trap 'rm -rf "$$stage"' EXIT; \
	mkdir -p "$$stage/$$name/bin" "$(DISTDIR)"; \
	install -m 0755 "$(BIN)" "$$stage/$$name/bin/coffer"; \
	cp README.md .pre-commit-hooks.yaml "$$stage/$$name/"; \
	tar -C "$$stage" --owner=0 --group=0 --numeric-owner --sort=name -czf "$(DISTDIR)/$$name.tar.gz" "$$name"; \
	(cd "$(DISTDIR)" && sha256sum "$$name.tar.gz" > "$$name.tar.gz.sha256"); \
	echo "wrote $(DISTDIR)/$$name.tar.gz and $(DISTDIR)/$$name.tar.gz.sha256"

bench: release
	Benchmarks/run.sh
