# The two commands of the quick start are `make run` and `make test`.
.PHONY: run test bench lint build

GO ?= go

## run: everything on this machine (private Postgres, in-process Redis, demo survey)
run:
	@script/ensure-postgres
	$(GO) run ./cmd/haveyoursay dev

## test: vet, then every test with the race detector, against real Postgres and Redis
test:
	@test -z "$$(gofmt -l .)" || { echo "These files need gofmt:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	script/services $(GO) test -race -count=1 ./...

## bench: print throughput and latency figures
bench:
	script/services $(GO) test -run='^$$' -bench=. -benchmem ./...

build:
	CGO_ENABLED=0 $(GO) build -o bin/haveyoursay ./cmd/haveyoursay
