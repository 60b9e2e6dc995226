# Kinema: `make demo` sets everything up and runs the demo; `make test` runs the tests.
SWIFT_FLAGS ?= -c release

.PHONY: setup build demo test bench clean
setup:
	@bash scripts/setup.sh

build: setup
	swift build $(SWIFT_FLAGS)

demo: build
	$$(swift build $(SWIFT_FLAGS) --show-bin-path)/kinema demo

test: setup
	swift test $(SWIFT_FLAGS) --no-parallel

bench: build
	$$(swift build $(SWIFT_FLAGS) --show-bin-path)/kinema bench

clean:
	rm -rf .build
