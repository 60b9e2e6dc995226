# Kinema: `make demo` sets everything up and runs the demo; `make test` runs the tests.
SWIFT_FLAGS ?= -c release

.PHONY: setup build demo test lint format examples bench fuzz clean
setup:
	@bash scripts/setup.sh

build: setup
	swift build $(SWIFT_FLAGS)

demo: build
	$$(swift build $(SWIFT_FLAGS) --show-bin-path)/kinema demo

test: setup
	swift test $(SWIFT_FLAGS) --no-parallel

# Formatting (swift format, .swift-format), Package.swift against the imports, the target diagram in the docs.
lint:
	@bash scripts/lint/lint.sh

# Rewrites what `make lint` can fix: the formatting and the target diagram.
format:
	@bash scripts/lint/lint.sh --fix

# Kinema used as a library by another package (Examples/Package.swift): build and run each example. libtorch is
# loaded through Kinema's shim, a product of this package (built by `make build`), named by KINEMA_TORCH_SHIM.
examples: build
	swift build $(SWIFT_FLAGS) --package-path Examples
	for example in PoseForward NeuralForward SmoothTracks; do \
		KINEMA_TORCH_SHIM=$$(swift build $(SWIFT_FLAGS) --show-bin-path)/libKinemaTorchShim.so \
		$$(swift build $(SWIFT_FLAGS) --package-path Examples --show-bin-path)/$$example || exit 1; done

# libFuzzer over every reader of files from outside (Fuzz/, scripts/fuzz/run.sh): FUZZ=SECONDS per target (60).
FUZZ ?= 60
fuzz: setup
	bash scripts/fuzz/run.sh $(FUZZ)

bench: build
	$$(swift build $(SWIFT_FLAGS) --show-bin-path)/kinema bench

clean:
	rm -rf .build Examples/.build Fuzz/.build
