# inkpass: `make run` starts a server on a local SQLite file; `make test` runs
# every test with the race detector (the full gate CI runs); `make test-short`
# is the inner loop: every test without -race, in -short mode; `make
# reliability` runs the reliability suite (scripts/reliability.sh); `make
# interop` drives real relying parties against the real binary
# (internal/interop); `make run-ha` starts PostgreSQL, two servers and haproxy
# in front of them (scripts/run-ha.sh).
GO        ?= go
BIN       := bin/inkpass
CONFIG    ?= config.yaml
BENCHTIME ?= 1s
COUNT     ?= 1
FUZZTIME  ?= 10s
export CGO_ENABLED := 1
# Go 1.26.8 has published vulnerabilities in net/http, crypto/tls, crypto/x509
# and html/template that inkpass calls (make lint's govulncheck lists them);
# go1.27.3 has none. The go command fetches it through the module proxy once
# (about 76 MB). GOTOOLCHAIN=local make ... keeps the installed Go.
GOTOOLCHAIN ?= go1.27.3
export GOTOOLCHAIN

.PHONY: run run-ha build test test-short reliability interop bench load demo lint clean

run: build
	./$(BIN) serve --config $(CONFIG)

build:
	$(GO) build -o $(BIN) ./cmd/inkpass

# A private PostgreSQL, two replicas on 127.0.0.1:8081/8082 and haproxy on
# 127.0.0.1:8080 (round-robin, health checks on /readyz); state in ./run-ha/,
# Ctrl-C stops it all. Installs haproxy (and postgresql) when missing.
run-ha:
	GO=$(GO) bash scripts/run-ha.sh

test:
	$(GO) test -race -count=1 -timeout 8m ./...

# The inner loop while editing: the same tests without the race detector
# (which multiplies the cost of every KDF and handler), and with -short, so
# the tests that check testing.Short() skip (internal/web's Chromium tests,
# the slowest real-cost hash cases). Run `make test` before you push: CI does.
test-short:
	$(GO) test -short -count=1 -timeout 3m ./...

# kill -9 under load, concurrent admin CLI writes, a second process holding
# the write lock, an adopted database with odd rows, a full disk, and each
# untrusted-input parser's fuzz target for FUZZTIME; a few minutes.
reliability:
	GO=$(GO) FUZZTIME=$(FUZZTIME) bash scripts/reliability.sh

# The README's Flask + Authlib example, Apache mod_auth_openidc, openid-client
# and oauth2-proxy sign in through inkpass's login form, validate the ID token,
# read the claims, refresh and sign out, for RS256 and ES256 clients; a table
# of the results ends the output. scripts/interop-setup.sh installs what is
# missing (Debian packages only under CI=true); locally a missing relying
# party is skipped with a message, under CI=true it fails.
interop:
	GO=$(GO) bash scripts/interop-setup.sh
	$(GO) test -tags interop -count=1 -v -timeout 10m ./internal/interop/

# Benchmarks in benchstat's input format: make bench COUNT=6 > new.txt
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count $(COUNT) ./...

# Drives a throw-away local server with cmd/inkpass-load (loopback only).
load:
	bash scripts/load.sh

# inkpass and the demo studio app side by side; open http://127.0.0.1:9090.
demo: build
	$(GO) build -o bin/studio-demo ./cmd/studio-demo
	@./$(BIN) serve --config $(CONFIG) & pid=$$!; \
	trap 'kill $$pid 2>/dev/null' EXIT INT TERM; \
	./bin/studio-demo

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	GO=$(GO) bash scripts/vulncheck.sh

clean:
	rm -rf bin coverage.out
