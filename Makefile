# Everyday targets; CI runs .ci/run, which does all of this and more.
export GOTOOLCHAIN := go1.26.11

.PHONY: build test race lint bench ci

build:
	go build -o tresor ./cmd/tresor

test:
	go test ./...

race:
	go test -race -count=1 ./...

lint:
	test -z "$$(gofmt -l .)"
	go vet ./...
	go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

bench:
	go test -run '^$$' -bench . ./incident/audit/ ./incident/sqlstore/

ci:
	.ci/run
