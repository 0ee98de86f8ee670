#!/usr/bin/env bash
# Orac throughput/memory benchmarks with budgets (bench/budgets.tsv).
#
#   bench/run.sh            all benchmarks, median of 5 runs each, then the budget check
#   bench/run.sh --runs 3   fewer runs
#   bench/run.sh --huge     also stream a 4.5 GB input (15 x big.perf) through collapse
#
# Input: ../shared/corpus/bench/big.perf.zst (298 MB of `perf script`), decompressed once into
# $ORAC_BENCH_DIR (default /tmp/orac-bench). Reference tools run side by side when found on PATH
# (stackcollapse-perf.pl, flamegraph.pl, difffolded.pl, inferno-collapse-perf, inferno-flamegraph,
# inferno-diff-folded) or in $FLAMEGRAPH_DIR; otherwise the figures recorded in bench/reference.tsv
# are shown for comparison, marked "recorded". As a same-run yardstick for this noisy shared machine,
# `wc -l` throughput on the same file is measured too.
# Writes bench/out/results.tsv and exits 1 when a budget is missed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs=5
huge=0
while (($#)); do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --huge) huge=1; shift ;;
    *) echo "usage: bench/run.sh [--runs N] [--huge]" >&2; exit 2 ;;
  esac
done

work="${ORAC_BENCH_DIR:-/tmp/orac-bench}"
out="$root/bench/out"
mkdir -p "$work" "$out"
corpus="${ORAC_CORPUS:-$root/../shared/corpus}"
zst="$corpus/bench/big.perf.zst"
big="$work/big.perf"
if [[ ! -s "$big" ]]; then
  [[ -f "$zst" ]] || { echo "bench: $zst not found (needs ../shared/corpus)" >&2; exit 1; }
  command -v zstd >/dev/null || { echo "bench: zstd is needed (apt-get install zstd)" >&2; exit 1; }
  zstd -q -d --long=27 "$zst" -o "$big"
fi

# Build once through the wrapper, then time the binary it runs: a source edit during the run must not
# make the wrapper rebuild inside a measured command.
"$root/orac" version >/dev/null
orac="$root/artifacts/publish/orac/orac"

results="$out/results.tsv"
printf 'benchmark\tinput_mb\tmedian_s\tmbps\trss_mb\truns\n' > "$results"

# measure NAME INPUT_BYTES CMD... : runs CMD $runs times (stdout to /dev/null), records median wall and max RSS.
measure() {
  local name="$1" bytes="$2"; shift 2
  local times=() rss=0 t r
  for ((i = 0; i < runs; i++)); do
    # Wall time from the clock in ns (time's %e has 10 ms steps, too coarse for 0.2 s runs); RSS from time.
    local t0 t1
    t0=$(date +%s%N)
    /usr/bin/time -f '%M' -o "$work/time.txt" bash -c "$*" > /dev/null 2> "$work/stderr.txt"
    t1=$(date +%s%N)
    read -r r < "$work/time.txt"
    t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
    times+=("$t")
    ((r > rss)) && rss=$r
  done
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  awk -v n="$name" -v b="$bytes" -v m="$median" -v r="$rss" -v k="$runs" 'BEGIN {
    mb = b / 1e6; mbps = (m > 0) ? mb / m : 0;
    printf "%s\t%.1f\t%.3f\t%.1f\t%.1f\t%d\n", n, mb, m, mbps, r / 1024, k }' >> "$results"
  tail -1 "$results" | awk -F'\t' '{ printf "  %-14s %8.1f MB  %7.3f s  %8.1f MB/s  %7.1f MB RSS\n", $1, $2, $3, $4, $5 }' >&2
}

size() { stat -c %s "$1"; }

build="Native AOT"; [[ -f "$root/artifacts/publish/orac/orac.dll" ]] && build="ReadyToRun (no C toolchain for Native AOT)"
echo "bench: $(nproc) cores, input $(size "$big") bytes, $runs runs each, orac build: $build" >&2
measure wc-l "$(size "$big")" "wc -l < '$big'"

measure collapse-1t "$(size "$big")" "'$orac' collapse perf --threads 1 '$big'"
measure collapse-2t "$(size "$big")" "'$orac' collapse perf --threads 2 '$big'"
# Streaming check: memory must not grow with input size. 4x and 8x the input through a pipe must
# peak at the same RSS. (2x is shown too: with two threads the worker's tables are still filling
# with the distinct stacks and the block pool may not be fully in use yet; that warm-up is bounded.)
measure collapse-pipe-2x "$((2 * $(size "$big")))" "cat '$big' '$big' | '$orac' collapse perf -"
measure collapse-pipe-4x "$((4 * $(size "$big")))" "for i in 1 2 3 4; do cat '$big'; done | '$orac' collapse perf -"
measure collapse-pipe-8x "$((8 * $(size "$big")))" "for i in 1 2 3 4 5 6 7 8; do cat '$big'; done | '$orac' collapse perf -"
if ((huge)); then
  measure collapse-4.5GB "$((15 * $(size "$big")))" "for i in \$(seq 15); do cat '$big'; done | '$orac' collapse perf -"
fi

# Folded inputs: what `orac collapse perf` makes of big.perf (45 MB, 48,597 distinct stacks), and the
# same with --all annotations (the "after" side of the diff).
folded="$work/big.folded"
folded_all="$work/big-all.folded"
"$orac" collapse perf "$big" > "$folded"
"$orac" collapse perf --all "$big" > "$folded_all"
measure flamegraph "$(size "$folded")" "'$orac' flamegraph '$folded'"
measure diff "$(( $(size "$folded") + $(size "$folded_all") ))" "'$orac' diff '$folded' '$folded_all'"

# A 300 MB folded file: the corpus's folded files repeated under 4 host prefixes (many repeated
# stacks, as when a fleet's profiles are merged over time). Shows throughput once start-up is amortised.
big_folded="$work/big-300MB.folded"
if [[ ! -s "$big_folded" ]]; then
  cat "$corpus"/FlameGraph/test/results/*collapsed-all.txt \
      "$corpus"/generated/FlameGraph-41fee1f/collapse-perf/*collapsed.txt | grep -v '^[[:space:]]*$' > "$work/base.folded"
  : > "$big_folded"
  rep=0
  while (( $(size "$big_folded") < 300000000 )); do
    sed "s/^/host$((rep % 4));/" "$work/base.folded" >> "$big_folded"
    rep=$((rep + 1))
  done
fi
measure flamegraph-300MB "$(size "$big_folded")" "'$orac' flamegraph '$big_folded'"
measure diff-300MB "$((2 * $(size "$big_folded")))" "'$orac' diff '$big_folded' '$big_folded'"

tiny="$root/tests/data/bench/tiny.folded"
measure startup-x20 "$(size "$tiny")" "for i in \$(seq 20); do '$orac' flamegraph '$tiny' > /dev/null 2>&1; done"

# Reference tools, side by side in this same run, when installed.
ref() { command -v "$1" 2>/dev/null || { [[ -n "${FLAMEGRAPH_DIR:-}" && -x "$FLAMEGRAPH_DIR/$1" ]] && echo "$FLAMEGRAPH_DIR/$1"; } || true; }
for tool in stackcollapse-perf.pl inferno-collapse-perf; do
  p=$(ref "$tool"); [[ -n "$p" ]] && measure "ref:$tool" "$(size "$big")" "'$p' '$big'"
done
for tool in flamegraph.pl inferno-flamegraph; do
  p=$(ref "$tool"); [[ -n "$p" ]] && measure "ref:$tool" "$(size "$folded_all")" "'$p' '$folded_all'"
done
for tool in difffolded.pl inferno-diff-folded; do
  p=$(ref "$tool"); [[ -n "$p" ]] && measure "ref:$tool" "$(( $(size "$folded") + $(size "$folded_all") ))" "'$p' '$folded' '$folded_all'"
done

exec "$root/bench/check.sh" "$results"
