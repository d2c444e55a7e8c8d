# inkpass: `make run` starts a server on a local SQLite file; `make test` runs
# every test with the race detector.
GO        ?= go
BIN       := bin/inkpass
CONFIG    ?= config.yaml
BENCHTIME ?= 1s
COUNT     ?= 1
export CGO_ENABLED := 1

.PHONY: run build test bench lint clean

run: build
	./$(BIN) serve --config $(CONFIG)

build:
	$(GO) build -o $(BIN) ./cmd/inkpass

test:
	$(GO) test -race -count=1 -timeout 8m ./...

# Benchmarks in benchstat's input format: make bench COUNT=6 > new.txt
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count $(COUNT) ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin coverage.out
