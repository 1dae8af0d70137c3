#!/usr/bin/env bash
# Builds the Lambda package: bootstrap (provided.al2023) and the allow-list, zipped.
#   scripts/build-lambda.sh [ARCH=arm64] [ALLOWLIST=allowlist.yaml] [DIST=dist]
# Output: DIST/secretwatch-lambda-ARCH.zip (and DIST/ARCH/bootstrap). Needs only Go.
set -euo pipefail
cd "$(dirname "$0")/.."
arch=${1:-arm64}
allow=${2:-allowlist.yaml}
dist=${3:-dist}
case "$arch" in arm64|amd64) ;; *) echo "build-lambda: ARCH must be arm64 or amd64" >&2; exit 2;; esac
if [ ! -f "$allow" ]; then
	echo "build-lambda: no allow-list at $allow (secretwatch learn proposes one; see allowlist.example.yaml)" >&2
	exit 2
fi
go run ./cmd/secretwatch check-config "$allow"
mkdir -p "$dist/$arch"
CGO_ENABLED=0 GOOS=linux GOARCH="$arch" go build -tags "lambda.norpc cloudtrail_stdjson ${SECRETWATCH_BUILD_TAGS:-}" -trimpath -ldflags='-s -w -buildid=' \
	-o "$dist/$arch/bootstrap" ./cmd/secretwatch-lambda
go run ./internal/ziptool "$dist/secretwatch-lambda-$arch.zip" "$dist/$arch/bootstrap=bootstrap" "$allow=allowlist.yaml"
ls -l "$dist/$arch/bootstrap" "$dist/secretwatch-lambda-$arch.zip"
