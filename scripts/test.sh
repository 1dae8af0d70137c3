#!/usr/bin/env bash
# The whole test suite, as on a fresh machine (Go 1.26 and Node.js only): installs the local AWS
# stand-ins (dynalite, goaws, the Lambda runtime interface emulator) at pinned versions, starts them
# on loopback ports, runs go vet and every test with the race detector, and stops them by PID.
# A test that lacks a stand-in or a tool fails here instead of skipping (SECRETWATCH_TEST_REQUIRE).
# Without terraform or tofu on PATH it builds OpenTofu's CLI, pinned, from the Go module proxy into
# .ci/.tools/bin (once; measured 43 min on a 2-core machine shared by 5 sessions, load ~20).
set -euo pipefail
cd "$(dirname "$0")/.."

export SECRETWATCH_TEST_REQUIRE=1

# OpenTofu's CLI for the terraform-binary tests. `go install …/cmd/tofu@VERSION` refuses the module
# (its go.mod has a replace directive), so the pinned module is downloaded and built in place.
tofu_version=v1.10.10
ensure_terraform() {
	if command -v terraform >/dev/null 2>&1 || command -v tofu >/dev/null 2>&1; then
		return
	fi
	local bin="$PWD/.ci/.tools/bin/tofu"
	if [ ! -x "$bin" ] || ! "$bin" version 2>/dev/null | grep -q "v${tofu_version#v}\b"; then
		echo "== building OpenTofu $tofu_version (tofu) into .ci/.tools/bin"
		local dir
		dir=$(cd "${TMPDIR:-/tmp}" && go mod download -json "github.com/opentofu/opentofu@$tofu_version" |
			sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
		mkdir -p "$(dirname "$bin")"
		(cd "$dir" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$bin" ./cmd/tofu)
	fi
	export PATH="$(dirname "$bin"):$PATH"
}
ensure_terraform

# shellcheck source=../.ci/standins.sh
source .ci/standins.sh
standins_install
standins_install_chromium # headless Chromium for the HTML report's browser tests (report/)
trap standins_stop EXIT
standins_start

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.ci/*'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
echo "== go vet"
go vet ./...
echo "== go test -race"
go test -race -count=1 -timeout 20m ./... 2>&1 | tee "${TMPDIR:-/tmp}/secretwatch-test.log"
# Under -race the CLI acceptance test runs only the small account; the full-scale one runs here.
echo "== go test (decoders and workers over all test data, without -race)"
go test -count=1 -run '^TestSameWhateverDecoderAndWorkers$' ./cloudtrail/ 2>&1 | tee -a "${TMPDIR:-/tmp}/secretwatch-test.log"
echo "== go test (the Lambda's decoder build, cloudtrail_stdjson: encoding/json only)"
go test -count=1 -tags cloudtrail_stdjson -run '^(TestSameWhateverDecoderAndWorkers|TestCorpus|TestDecodeShapes)$' ./cloudtrail/ 2>&1 | tee -a "${TMPDIR:-/tmp}/secretwatch-test.log"
echo "== go test (CLI acceptance at full scale, without -race)"
go test -count=1 -run '^TestAcceptanceLearnThenEnforce$/^seed_0,_scale_1$' ./internal/cli/ 2>&1 | tee -a "${TMPDIR:-/tmp}/secretwatch-test.log"
