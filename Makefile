# PaddleCloud — the two commands a newcomer needs: `make run` and `make test`.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
DATA_DIR ?= ./paddlecloud-data
LISTEN ?= 127.0.0.1:8080

.PHONY: all deps web build run test test-cpp test-sdk test-examples test-web test-browser bench clean

all: build

# Debian packages and npm modules; idempotent, quick when everything is there.
deps:
	@scripts/install-deps

web: deps
	@echo "==> building the web UI"
	@cd web && npm run --silent build

build: web
	@echo "==> building paddlecloud ($(BUILD_TYPE))"
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	@echo "==> PaddleCloud is starting at http://$(LISTEN)  (data in $(DATA_DIR); Ctrl-C stops it)"
	@$(BUILD_DIR)/paddlecloud server --data-dir $(DATA_DIR) --listen $(LISTEN)

test: build
	@$(MAKE) --no-print-directory test-cpp test-sdk test-examples test-web test-browser

test-cpp:
	@echo "==> C++ unit and integration tests"
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

test-sdk:
	@echo "==> Python SDK tests"
	@PADDLECLOUD_BIN=$(abspath $(BUILD_DIR))/paddlecloud python3 -m unittest discover -s sdk/python/tests
	@/usr/bin/python3 -m unittest discover -s sdk/serving/tests
	@PADDLECLOUD_BIN=$(abspath $(BUILD_DIR))/paddlecloud /usr/bin/python3 -m unittest discover -s sdk/python/tests -p "test_serving*.py"

test-examples:
	@echo "==> examples (distributed fit_a_line with numpy)"
	@/usr/bin/python3 -m unittest discover -s examples/fit_a_line
	@/usr/bin/python3 -m unittest discover -s examples/board_logwriter
	@/usr/bin/python3 -m unittest discover -s examples/board_seed

test-web:
	@echo "==> web UI unit tests"
	@cd web && npm test --silent

test-browser:
	@echo "==> browser tests (Chromium)"
	@cd web && PADDLECLOUD_BIN=$(abspath $(BUILD_DIR))/paddlecloud npm run --silent e2e

bench: build
	@bench/http_bench.sh $(BUILD_DIR)
	@python3 bench/jobs_bench.py $(BUILD_DIR)
	@python3 bench/database_bench.py $(BUILD_DIR)
	@python3 bench/files_bench.py $(BUILD_DIR)
	@python3 bench/auth_bench.py $(BUILD_DIR)
	@$(BUILD_DIR)/src/timeseries/series_bench
	@$(BUILD_DIR)/src/board/board_bench
	@python3 bench/monitoring_bench.py $(BUILD_DIR)
	@python3 bench/board_sdk_bench.py $(BUILD_DIR)
	@bench/proxy_bench.sh $(BUILD_DIR)
	@/usr/bin/python3 bench/python_worker_bench.py
	@python3 bench/model_server_bench.py $(BUILD_DIR)
	@python3 bench/notebook_bench.py $(BUILD_DIR)
	@bench/relay_bench.sh $(BUILD_DIR)
	@python3 bench/serving_bench.py $(BUILD_DIR)
	@$(BUILD_DIR)/src/cluster/kubernetes_bench 200

clean:
	rm -rf $(BUILD_DIR) web/dist
