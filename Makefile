# zonekeeper's two commands: `make run` and `make test` (SPEC section 1).
# Both install what is missing from Debian (as root with apt-get; otherwise
# they print the exact command to run), build with CMake and go.

BUILD      ?= build
TEST_BUILD ?= build/asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

# Libraries and tools needed to build and run.
BUILD_DEPS := cmake make gcc pkg-config libuv1-dev libldns-dev libc-ares-dev \
              libconfig-dev libjansson-dev libsystemd-dev libssl-dev
# Extra packages the test suite uses: real peers and resolvers.
TEST_DEPS  := libcmocka-dev python3 python3-pytest python3-pycares python3-dnspython \
              python3-kazoo socat dnsutils systemd \
              zookeeper libzookeeper-mt-dev default-jre-headless

.PHONY: all build run test deps test-deps clean check-config bench

all: build

# Installs the missing packages named in $(1), or says how.
define ensure_pkgs
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing: $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	  else \
	    echo "missing packages; run:"; echo "  sudo apt-get install -y $$missing"; exit 1; \
	  fi; \
	fi
endef

deps:
	$(call ensure_pkgs,$(BUILD_DEPS))

test-deps: deps
	$(call ensure_pkgs,$(TEST_DEPS))

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

run: build
	@mkdir -p build/run build/var
	exec $(BUILD)/daemon/zonekeeperd -c conf/dev.conf

check-config: build
	$(BUILD)/daemon/zonekeeperd --check-config -c conf/dev.conf

# The whole suite under AddressSanitizer and UndefinedBehaviorSanitizer. The
# optimised build `make run` uses is built too: -O2 sees warnings -O0 does not.
test: test-deps build
	cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DZK_SANITIZE=ON -DBUILD_TESTING=ON >/dev/null
	cmake --build $(TEST_BUILD) -j $(JOBS)
	cd $(TEST_BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

clean:
	rm -rf build
