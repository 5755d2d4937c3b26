# Everyday targets. `make test` is what CI runs (via .ci/run); `make demo` runs the front on a demo setup.
export PATH := $(PATH):/opt/swift/usr/bin

.PHONY: all build release test unit lint format demo deps clean bench

all: build

deps:
	scripts/install-deps.sh

build:
	swift build

release:
	swift build -c release --product brokerfront

## Installs missing tools (mosquitto, redis-server, ...), builds, and runs every test tier.
test: deps
	swift build --build-tests
	swift test --skip-build

## Pure and EmbeddedChannel tests only (no brokers needed).
unit:
	swift test --filter 'MQTTWireTests|ProxyProtocolTests|FrontConfigTests|FrontCoreTests|FrontProxyTests|FrontControlTests'

lint:
	swift format lint --strict --recursive --configuration .swift-format Package.swift Sources Tests

format:
	swift format --in-place --recursive --configuration .swift-format Package.swift Sources Tests

demo:
	scripts/demo.sh

## Benchmarks against mosquitto and HAProxy 2.6 (docs/benchmarks.md); bench/ports.sh and bench/scale.sh for the big runs.
bench:
	DEPS=test scripts/install-deps.sh
	swift build -c release --scratch-path .build-bench
	bench/compare.sh 3

clean:
	rm -rf .build
