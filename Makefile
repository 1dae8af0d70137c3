# secretwatch — see README.md.
GOARCH_LAMBDA ?= arm64
DIST          ?= dist
ALLOWLIST     ?= allowlist.yaml

.PHONY: test demo lambda-zip lambda-zips bench clean

# The whole test suite (installs and starts the local AWS stand-ins itself).
test:
	bash scripts/test.sh

# The main job on bundled example data, embedded store, no AWS account.
demo:
	go run ./cmd/secretwatch replay --store :memory: --config testdata/example/allowlist.yaml testdata/example

# The Lambda package: bootstrap for provided.al2023 plus the allow-list, zipped.
# make lambda-zip [GOARCH_LAMBDA=amd64] [ALLOWLIST=path/to/allowlist.yaml]
lambda-zip:
	bash scripts/build-lambda.sh $(GOARCH_LAMBDA) $(ALLOWLIST) $(DIST)

lambda-zips:
	bash scripts/build-lambda.sh arm64 $(ALLOWLIST) $(DIST)
	bash scripts/build-lambda.sh amd64 $(ALLOWLIST) $(DIST)

bench:
	go test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf $(DIST)
