#!/usr/bin/env bash
# Throughput comparison (make bench-compare): the same large capture through
# `switchtap replay` (with --record-dir: the recorder writes every answered
# call's WAV, as the daemon does) and through
# `tshark -q -z sip,stat -z rtp,streams`; prints both whole-process times
# and the ratio. The capture: $1 if given (e.g. a lab load run's tcpdump
# file), else N=${BENCH_CALLS:-2000} answered calls with RTP from pcapgen.
set -euo pipefail
cd "$(dirname "$0")/../.."
for tool in tshark go; do command -v "$tool" >/dev/null || { echo "bench-compare: needs $tool" >&2; exit 1; }; done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -o "$work/switchtap" ./cmd/switchtap
if [ $# -ge 1 ]; then
	pcap=$1
else
	pcap=$work/load.pcap
	go run ./internal/pcapgen/cmd/pcapgen -q -load "${BENCH_CALLS:-2000}" -o "$pcap"
fi
size=$(stat -c %s "$pcap")
now() { date +%s.%N; }
t0=$(now)
"$work/switchtap" replay --json --record-dir "$work/rec" "$pcap" >"$work/replay.jsonl"
t1=$(now)
tshark -q -n -z sip,stat -z rtp,streams -r "$pcap" >"$work/tshark.txt"
t2=$(now)
awk -v a="$t0" -v b="$t1" -v c="$t2" -v size="$size" -v calls="$(wc -l <"$work/replay.jsonl")" -v wavs="$(find "$work/rec" -name '*.wav' | wc -l)" 'BEGIN {
	r = b - a; s = c - b
	printf "capture: %.1f MB, %d calls (%d recordings)\n", size / 1e6, calls, wavs
	printf "switchtap replay --record-dir: %.2f s\n", r
	printf "tshark -z sip,stat -z rtp,streams: %.2f s\n", s
	printf "ratio tshark/switchtap: %.2f\n", s / r
}'
