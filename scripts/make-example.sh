#!/usr/bin/env bash
# Regenerates testdata/example: a realistic 14-day account (secretwatch-gen, seed 0, scale 0.3)
# as one CloudTrail log file per region and day, and the allow-list that `secretwatch learn`
# proposes from days 1-13 (the intrusions of day 14 are therefore unexpected). Deterministic.
set -euo pipefail
cd "$(dirname "$0")/.."
out=testdata/example
rm -rf "$out/AWSLogs" && mkdir -p "$out"
go run ./cmd/secretwatch-gen -out "$out" -daily -scale 0.3 -truth testdata/example.truth.json
learn=$(mktemp -d)
trap 'rm -rf "$learn"' EXIT
find "$out/AWSLogs" -name '*.json.gz' ! -name '*_20260315T*' -exec cp {} "$learn/" \;
{
	echo "# Example allow-list for testdata/example, made by scripts/make-example.sh:"
	echo "# \`secretwatch learn\` over days 1-13 of the example account, kept as proposed."
	go run ./cmd/secretwatch learn "$learn" | sed "s#$learn#days 1-13 of testdata/example#g"
} >"$out/allowlist.yaml"
go run ./cmd/secretwatch check-config "$out/allowlist.yaml"
