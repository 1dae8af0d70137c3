#!/bin/bash
# Side by side, in one run: gzip -dc of a trail's files, the jq one-liner (JQ=1) and
# `secretwatch replay` with each binary given. BENCHMARKS.md, "Replay throughput".
#
#   usage: scripts/bench-replay.sh TRAIL ALLOWLIST BINARY...
#   (GOMAXPROCS=1 limits the replays to one core; SWFLAGS adds replay flags)
set -u
T=$1 A=$2
shift 2
mapfile -t FILES < <(find "$T" -name '*.gz' | sort)
m() { local name=$1; shift; /usr/bin/time -f "$name: wall %e s  user %U s  sys %S s  max RSS %M KB" "$@"; }
m "gzip -dc" gzip -dc "${FILES[@]}" >/dev/null
if [ -n "${JQ:-}" ]; then
	m "jq" sh -c 'gzip -dc "$@" | jq -c ".Records[] | select(.eventSource==\"secretsmanager.amazonaws.com\") | .eventName" | wc -l' sh "${FILES[@]}"
fi
for b in "$@"; do
	m "$b replay ${SWFLAGS:-}" "$b" replay --progress never --store :memory: --config "$A" ${SWFLAGS:-} "$T" 2>&1 >/dev/null | grep -E "records from|wall"
done
