# The two commands of the quick start are `make run` and `make test`.
.PHONY: run test fuzz bench build

GO ?= go
# A count, not a duration: Go 1.26's fuzzer can fail a duration-limited run
# with "context deadline exceeded" at the deadline (golang/go#75804).
FUZZTIME ?= 50000x

## run: everything on this machine (private Postgres and Redis, demo surveys);
## script/run builds bin/haveyoursay, then runs `haveyoursay dev`
run:
	@script/run

## test: format and vet checks, every test with the race detector against real
## Postgres and Redis (started privately when none is running), then a short fuzz
test:
	@test -z "$$(gofmt -l .)" || { echo "These files need gofmt:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	@if [ -x script/ensure-chromium ]; then script/ensure-chromium; fi
	script/ensure-axe
	script/services $(GO) test -race -count=1 ./...
	$(MAKE) --no-print-directory fuzz

## fuzz: each fuzz target for FUZZTIME (seed corpus in survey/testdata/fuzz).
## Minimising a new input is capped (Go's default is 60 s): in a short run the
## fuzzer would otherwise spend all its time shrinking its first find.
FUZZMIN ?= 200x
# The webhook form parsers are small: a short run each in make test.
WEBHOOKFUZZ ?= 10000x
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzMatch$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=$(FUZZMIN) ./survey/
	$(GO) test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=$(FUZZMIN) ./survey/
	$(GO) test -run='^$$' -fuzz='^FuzzStep$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=$(FUZZMIN) ./survey/
	$(GO) test -run='^$$' -fuzz='^FuzzInboundForm$$' -fuzztime=$(WEBHOOKFUZZ) -fuzzminimizetime=$(FUZZMIN) ./sms/
	$(GO) test -run='^$$' -fuzz='^FuzzStatusForm$$' -fuzztime=$(WEBHOOKFUZZ) -fuzzminimizetime=$(FUZZMIN) ./sms/
	$(GO) test -run='^$$' -fuzz='^FuzzGatherForm$$' -fuzztime=$(WEBHOOKFUZZ) -fuzzminimizetime=$(FUZZMIN) ./ivr/
	$(GO) test -run='^$$' -fuzz='^FuzzCallForm$$' -fuzztime=$(WEBHOOKFUZZ) -fuzzminimizetime=$(FUZZMIN) ./ivr/

## bench: print throughput and latency figures (real Postgres and Redis)
## - BenchmarkStep: one survey step (match + transition)
## - BenchmarkInboundSMS: 22,000 inbound texts offered at a steady 2,200 a second
## - BenchmarkVoiceWebhook: voice webhooks under 4, 16 and 64 concurrent calls
## - BenchmarkReviewPages: the conversations page and a search over HTTP, 1,000,000 answers
## - BenchmarkAudioServe: GET /audio/{name} (Twilio's <Play>), full answers and 304s
## - BenchmarkMatch (safeguarding): risk phrases in a 25-word text
## - BenchmarkExport: exporting 1,000,000 answers as CSV, JSON and Flow Results (answers/s, peak RSS)
## - BenchmarkInboundSMSStored: 64 members texting, texts answered and STORED a second
##   (the clock stops when every row is in Postgres), peak memory
## - BenchmarkInboundSMSReference: the same for the least a webhook could do and keep a
##   text (no survey, no file spool): a yardstick for this machine
## - BenchmarkJournalWriter: the spool writer alone, texts stored a second, batched
##   multi-row INSERTs against the earlier one-statement-per-event writer
## - BenchmarkReplyBurst: 10,000 replies at once: time to absorb, time to store, p99, peak memory
## - BenchmarkBusyVoiceWebhook: voice webhook p99 at 200 concurrent calls, peak memory
bench:
	script/services $(GO) test -run='^$$' -bench='^Benchmark(Step|Match|Parse|Lint)$$' -benchmem ./survey/
	script/services $(GO) test -run='^$$' -bench='^BenchmarkInboundSMS$$' -benchtime=22000x ./sms/
	script/services $(GO) test -run='^$$' -bench='^BenchmarkVoiceWebhook' -benchmem ./ivr/
	script/services $(GO) test -run='^$$' -bench='^BenchmarkReviewPages$$' -benchtime=1x -timeout=20m ./dashboard/
	script/services $(GO) test -run='^$$' -bench='^BenchmarkAudioServe$$' -benchmem ./audio/
	$(GO) test -run='^$$' -bench='^BenchmarkMatch$$' -benchmem ./safeguarding/
	script/services $(GO) test -run='^$$' -bench='^BenchmarkExport$$' -benchtime=1x -timeout=20m ./export/
	script/services $(GO) test -run='^$$' -bench='^BenchmarkInboundSMS(Stored|Reference)$$' -benchtime=30000x ./sms/
	script/services $(GO) test -run='^$$' -bench='^BenchmarkJournalWriter$$' -benchtime=20000x ./store/
	script/services $(GO) test -run='^$$' -bench='^BenchmarkReplyBurst$$' -benchtime=1x -timeout=20m ./sms/
	script/services $(GO) test -run='^$$' -bench='^BenchmarkBusyVoiceWebhook$$' -benchtime=2000x ./ivr/

## build: a static binary in bin/
build:
	CGO_ENABLED=0 $(GO) build -o bin/haveyoursay ./cmd/haveyoursay
