# The two commands a newcomer needs:
#   make demo   builds Coffer and runs its main job on examples/reference
#   make test   runs every test
.PHONY: demo test build release deps bench

deps:
	@scripts/deps.sh

build: deps
	swift build

demo: build
	@scripts/demo.sh

test: deps
	swift build
	swift test

release: deps
	COFFER_STATIC_LINK=1 swift build -c release -Xswiftc -static-stdlib

bench: release
	Benchmarks/run.sh
