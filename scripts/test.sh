#!/usr/bin/env bash
# The whole test suite, as on a fresh machine (Go 1.26 and Node.js only): installs the local AWS
# stand-ins (dynalite, goaws, the Lambda runtime interface emulator) at pinned versions, starts them
# on loopback ports, runs go vet and every test with the race detector, and stops them by PID.
set -euo pipefail
cd "$(dirname "$0")/.."

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
