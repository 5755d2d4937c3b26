# Everyday targets. `make test` is what CI runs (via .ci/run); `make demo` runs the front on a demo setup.
export PATH := $(PATH):/opt/swift/usr/bin

.PHONY: all build release test unit lint format demo deps clean bench sanitize soak fuzz deb deploy-checks container-test

all: build

deps:
	scripts/install-deps.sh

build:
	swift build

release:
	swift build -c release --static-swift-stdlib --product brokerfront

## The Debian package in build/ (binary, unit, sysctl.d, sysusers.d, config, man pages, completions).
deb:
	scripts/make-deb.sh

## What CI runs after the tests: sysctl.d vs tune, Kubernetes manifests, alert rules, the package, the image.
deploy-checks: deps
	scripts/deploy-checks.sh

## The container image run under podman against local brokers (SKIP where podman cannot run).
container-test:
	scripts/container-test.sh

## Installs missing tools (mosquitto, redis-server, ...), builds, and runs every test tier.
## The log is kept in .build/test.log; on failure the failing tests and their issues are repeated at the end.
test: deps
	swift build --build-tests
	scripts/run-tests.sh

## Pure and EmbeddedChannel tests only (no brokers needed).
unit:
	swift test --filter 'MQTTWireTests|ProxyProtocolTests|FrontConfigTests|FrontCoreTests|FrontSessionTests|FrontProxyTests|FrontControlTests'

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

## The test suite under AddressSanitizer and ThreadSanitizer (docs/robustness.md); before each release.
sanitize: deps
	scripts/sanitizers.sh

## 30 minutes, 9,000 sessions with churn and publishing; RSS and descriptors must stay flat.
soak: deps
	swift build -c release --scratch-path .build-bench
	bench/soak.sh

## libFuzzer targets (MQTT codec, PROXY header, config loader), 20 s each.
fuzz:
	scripts/fuzz.sh

