# shellcheck shell=bash
# .ci/standins.sh — local stand-ins for AWS services, for tests. A library: source it, then call
#
#   standins_install   install dynalite (npm), goaws and aws-lambda-rie (go install) into $SW_TOOLS;
#                      idempotent (a version stamp per tool; a bumped pin reinstalls)
#   standins_start     start dynalite and goaws on loopback, wait until they answer, record PIDs and
#                      export the SECRETWATCH_TEST_* variables below
#   standins_stop      stop what standins_start started (by PID), wait for it to exit
#
# Exported by standins_start (names only; the tests skip what they need when a variable is unset):
#   SECRETWATCH_TEST_DYNAMODB  http://127.0.0.1:PORT  dynalite, in memory
#   SECRETWATCH_TEST_SNS       http://127.0.0.1:PORT  goaws (SNS and SQS on the same port)
#   SECRETWATCH_TEST_RIE       path of the aws-lambda-rie binary (tests start one emulator each)
#   SECRETWATCH_TEST_DYNALITE  path of dynalite's cli.js (tests start private ones, e.g. --path DIR)
#   SECRETWATCH_TEST_NODE      path of node
#
# Settings (environment): SW_TOOLS (default $PWD/.ci/.tools, git-ignored), SW_DYNALITE_PORT and
# SW_GOAWS_PORT (default: a free port the kernel picks). Logs go to $SW_TOOLS/logs, PID files and the
# goaws config to $SW_TOOLS/run. Nothing listens on anything but 127.0.0.1 except goaws, which binds
# all interfaces whatever it is told (we talk to it on 127.0.0.1 only).
#
# The functions return non-zero on failure and never change the caller's shell options.

SW_DYNALITE_VERSION=4.0.0
SW_GOAWS_VERSION=v0.4.5
SW_RIE_VERSION=v0.0.0-20261030222936-bef5c4ba774d

_sw_tools() { printf '%s\n' "${SW_TOOLS:-$PWD/.ci/.tools}"; }

_sw_log() { printf 'standins: %s\n' "$*" >&2; }

# _sw_free_port prints a TCP port on 127.0.0.1 that nothing listens on. It asks the kernel (bind to
# port 0) when python3 is there, and otherwise probes a high range with bash's /dev/tcp.
_sw_free_port() {
	local p
	if command -v python3 >/dev/null 2>&1 &&
		p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null) &&
		[ -n "$p" ]; then
		printf '%s\n' "$p"
		return 0
	fi
	local start=$((20000 + RANDOM % 20000))
	for ((p = start; p < start + 500; p++)); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			printf '%s\n' "$p"
			return 0
		fi
	done
	_sw_log "no free port found in $start..$((start + 499))"
	return 1
}

# _sw_wait_http URL WANT PID: wait (at most ~20 s) until URL answers — with body WANT when WANT is
# set, with any HTTP status otherwise — while PID stays alive.
_sw_wait_http() {
	local url=$1 want=$2 pid=$3 i out
	for ((i = 0; i < 200; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			return 1
		fi
		if [ -n "$want" ]; then
			out=$(curl -s --max-time 1 "$url" 2>/dev/null) && [ "$out" = "$want" ] && return 0
		else
			out=$(curl -s --max-time 1 -o /dev/null -w '%{http_code}' "$url" 2>/dev/null)
			[ -n "$out" ] && [ "$out" != 000 ] && return 0
		fi
		sleep 0.1
	done
	return 1
}

standins_install() {
	local tools bin node
	tools=$(_sw_tools)
	bin=$tools/bin
	node=$tools/node
	mkdir -p "$bin" "$node" "$tools/logs" "$tools/run" || return 1

	if [ ! -f "$node/.dynalite-$SW_DYNALITE_VERSION" ] || [ ! -f "$node/node_modules/dynalite/cli.js" ]; then
		command -v npm >/dev/null 2>&1 || { _sw_log "npm not found (needed for dynalite)"; return 1; }
		_sw_log "installing dynalite@$SW_DYNALITE_VERSION"
		[ -f "$node/package.json" ] || printf '{"name":"secretwatch-standins","private":true}\n' >"$node/package.json"
		(cd "$node" && npm install --no-audit --no-fund --ignore-scripts --save-exact --loglevel=error \
			"dynalite@$SW_DYNALITE_VERSION") >"$tools/logs/install-dynalite.log" 2>&1 ||
			{ _sw_log "npm install dynalite failed, see $tools/logs/install-dynalite.log"; return 1; }
		rm -f "$node"/.dynalite-* && touch "$node/.dynalite-$SW_DYNALITE_VERSION"
	fi

	if [ ! -f "$bin/.goaws-$SW_GOAWS_VERSION" ] || [ ! -x "$bin/goaws" ]; then
		_sw_log "installing goaws@$SW_GOAWS_VERSION"
		# The main package is .../app/cmd, so go install names the binary "cmd": install it into a
		# private GOBIN and rename, so nothing called "cmd" lands next to the other tools.
		local gobin=$tools/gobin-goaws
		rm -rf "$gobin" && mkdir -p "$gobin" || return 1
		GOBIN=$gobin GOFLAGS=-mod=mod go install "github.com/Admiral-Piett/goaws/app/cmd@$SW_GOAWS_VERSION" \
			>"$tools/logs/install-goaws.log" 2>&1 ||
			{ _sw_log "go install goaws failed, see $tools/logs/install-goaws.log"; return 1; }
		mv -f "$gobin/cmd" "$bin/goaws" && rm -rf "$gobin" || return 1
		rm -f "$bin"/.goaws-* && touch "$bin/.goaws-$SW_GOAWS_VERSION"
	fi

	if [ ! -f "$bin/.aws-lambda-rie-$SW_RIE_VERSION" ] || [ ! -x "$bin/aws-lambda-rie" ]; then
		_sw_log "installing aws-lambda-rie@$SW_RIE_VERSION"
		GOBIN=$bin GOFLAGS=-mod=mod go install \
			"github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$SW_RIE_VERSION" \
			>"$tools/logs/install-rie.log" 2>&1 ||
			{ _sw_log "go install aws-lambda-rie failed, see $tools/logs/install-rie.log"; return 1; }
		rm -f "$bin"/.aws-lambda-rie-* && touch "$bin/.aws-lambda-rie-$SW_RIE_VERSION"
	fi
	return 0
}

standins_start() {
	local tools run logs nodebin cli dport gport pid
	tools=$(_sw_tools)
	run=$tools/run
	logs=$tools/logs
	cli=$tools/node/node_modules/dynalite/cli.js
	mkdir -p "$run" "$logs" || return 1
	nodebin=$(command -v node) || { _sw_log "node not found"; return 1; }
	[ -f "$cli" ] && [ -x "$tools/bin/goaws" ] && [ -x "$tools/bin/aws-lambda-rie" ] ||
		{ _sw_log "stand-ins not installed: run standins_install first"; return 1; }
	standins_stop # leftovers of an earlier start in the same SW_TOOLS

	dport=${SW_DYNALITE_PORT:-$(_sw_free_port)} || return 1
	"$nodebin" "$cli" --host 127.0.0.1 --port "$dport" \
		--createTableMs 0 --deleteTableMs 0 --updateTableMs 0 >"$logs/dynalite.log" 2>&1 &
	pid=$!
	echo "$pid" >"$run/dynalite.pid"
	if ! _sw_wait_http "http://127.0.0.1:$dport/" "" "$pid"; then
		_sw_log "dynalite did not start on 127.0.0.1:$dport, see $logs/dynalite.log"
		standins_stop
		return 1
	fi

	gport=${SW_GOAWS_PORT:-$(_sw_free_port)} || { standins_stop; return 1; }
	cat >"$run/goaws.yaml" <<YAML
Local:
  Host: 127.0.0.1
  Port: $gport
  Region: us-east-1
  AccountId: "100010001000"
  Queues: []
  Topics: []
YAML
	# Always pass -config: without it goaws searches the whole current directory tree.
	"$tools/bin/goaws" -config "$run/goaws.yaml" Local >"$logs/goaws.log" 2>&1 &
	pid=$!
	echo "$pid" >"$run/goaws.pid"
	if ! _sw_wait_http "http://127.0.0.1:$gport/health" OK "$pid"; then
		_sw_log "goaws did not start on 127.0.0.1:$gport, see $logs/goaws.log"
		standins_stop
		return 1
	fi

	export SECRETWATCH_TEST_DYNAMODB="http://127.0.0.1:$dport"
	export SECRETWATCH_TEST_SNS="http://127.0.0.1:$gport"
	export SECRETWATCH_TEST_RIE="$tools/bin/aws-lambda-rie"
	export SECRETWATCH_TEST_DYNALITE="$cli"
	export SECRETWATCH_TEST_NODE="$nodebin"
	_sw_log "dynalite $SECRETWATCH_TEST_DYNAMODB (pid $(cat "$run/dynalite.pid")), goaws $SECRETWATCH_TEST_SNS (pid $pid)"
	return 0
}

standins_stop() {
	local run f pid i
	run=$(_sw_tools)/run
	for f in "$run/goaws.pid" "$run/dynalite.pid"; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		# A stale PID file may name a process that is not ours any more: only stop a PID whose
		# command line is still the stand-in's.
		if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
			tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -Eq 'dynalite|goaws'; then
			kill "$pid" 2>/dev/null
			for ((i = 0; i < 50; i++)); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
			kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
			# reap it when it is our child; a PID from another shell cannot be waited for
			wait "$pid" 2>/dev/null || true
		fi
		rm -f "$f"
	done
	return 0
}

# standins_install_chromium: headless Chromium for the HTML report's browser tests (report/). Uses
# the chromium already on PATH, or installs Debian's chromium package when running as root with
# apt-get; exports SECRETWATCH_TEST_CHROMIUM (the tests skip without it). A machine that cannot
# install it gets a message and no variable, not a failure.
standins_install_chromium() {
	local bin
	bin=$(command -v chromium || command -v chromium-browser || true)
	if [ -z "$bin" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		_sw_log "installing chromium (apt-get)"
		if DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; then
			bin=$(command -v chromium || true)
		fi
	fi
	if [ -z "$bin" ]; then
		_sw_log "chromium not available: the HTML report's browser tests cannot run (they fail under make test, skip elsewhere)"
		return 0
	fi
	export SECRETWATCH_TEST_CHROMIUM=$bin
}
