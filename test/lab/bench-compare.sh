#!/usr/bin/env bash
# Throughput comparison (make bench-compare): the same large capture through
# `switchtap replay` (with --record-dir: the recorder writes every answered
# call's WAV, as the daemon does) and through
# `tshark -q -z sip,stat -z rtp,streams`; prints both whole-process times
# and the ratio, and the replay without recording. The capture: $1 if given
# (e.g. a lab load run's tcpdump file), else N=${BENCH_CALLS:-2000} answered
# calls with RTP from pcapgen.
#
# Where the recordings go: as root, a fresh journaled ext4 (a loop-mounted
# image, as the board's card), else a temporary folder. A file system with
# no journal (this project's CI machines) checks every free inode for a
# recent deletion when it makes a file (ext4's recently_deleted), so after
# a previous run's 2,000 files are deleted, making the next 2,000 costs
# seconds of kernel time that the board never pays.
set -euo pipefail
cd "$(dirname "$0")/../.."
for tool in tshark go; do command -v "$tool" >/dev/null || { echo "bench-compare: needs $tool" >&2; exit 1; }; done
work=$(mktemp -d)
mnt=
cleanup() {
	if [ -n "$mnt" ]; then umount "$mnt" || true; fi
	rm -rf "$work"
}
trap cleanup EXIT
CGO_ENABLED=0 go build -o "$work/switchtap" ./cmd/switchtap
if [ $# -ge 1 ]; then
	pcap=$1
else
	pcap=$work/load.pcap
	go run ./internal/pcapgen/cmd/pcapgen -q -load "${BENCH_CALLS:-2000}" -o "$pcap"
fi
size=$(stat -c %s "$pcap")
recfs="$(df --output=fstype "$work" | tail -n 1) folder"
if [ "$(id -u)" = 0 ] && command -v mkfs.ext4 >/dev/null; then
	# Twice the capture holds its recordings (G.711 stereo is smaller
	# than the RTP it comes from).
	truncate -s $((2 * size + (256 << 20))) "$work/rec.img"
	mkdir "$work/mnt"
	if mkfs.ext4 -q -F "$work/rec.img" && mount -o loop "$work/rec.img" "$work/mnt"; then
		mnt=$work/mnt
		recfs="fresh journaled ext4 (loop)"
	else
		echo "bench-compare: no loop mount here; recordings in a folder" >&2
	fi
fi
rec=${mnt:-$work}/rec
now() { date +%s.%N; }
t0=$(now)
"$work/switchtap" replay --json --record-dir "$rec" "$pcap" >"$work/replay.jsonl"
t1=$(now)
tshark -q -n -z sip,stat -z rtp,streams -r "$pcap" >"$work/tshark.txt"
t2=$(now)
"$work/switchtap" replay --json "$pcap" >/dev/null
t3=$(now)
awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v size="$size" -v recfs="$recfs" \
	-v calls="$(wc -l <"$work/replay.jsonl")" -v wavs="$(find "$rec" -name '*.wav' | wc -l)" 'BEGIN {
	r = b - a; s = c - b; n = d - c
	printf "capture: %.1f MB, %d calls (%d recordings, on a %s)\n", size / 1e6, calls, wavs, recfs
	printf "switchtap replay --record-dir: %.2f s\n", r
	printf "tshark -z sip,stat -z rtp,streams: %.2f s\n", s
	printf "ratio tshark/switchtap: %.2f\n", s / r
	printf "switchtap replay without recording: %.2f s (ratio %.2f)\n", n, s / n
}'
