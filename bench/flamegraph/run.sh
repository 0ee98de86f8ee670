#!/usr/bin/env bash
# Throughput/memory budget for `orac flamegraph` on a large folded file (STYLE.md rule 14).
# Builds /tmp/orac-bench/big.folded (~300 MB) from the shared corpus's folded files: each copy of the
# corpus gets one of N "host" prefixes (default 4), so distinct stacks = N x corpus while the input
# grows by repetition, like a fleet's profiles merged over time. Fails when a budget is missed.
#   usage: bench/flamegraph/run.sh [prefixes=4] [min_mb_per_s=190] [max_rss_mb=65]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
corpus="${ORAC_CORPUS:-$root/../shared/corpus}"
prefixes="${1:-4}"; min_mbps="${2:-190}"; max_rss="${3:-65}"
out=/tmp/orac-bench; mkdir -p "$out"
input="$out/big-$prefixes.folded"
if [[ ! -s $input ]]; then
  cat "$corpus"/FlameGraph/test/results/*collapsed-all.txt \
      "$corpus"/generated/FlameGraph-41fee1f/collapse-perf/*collapsed.txt | grep -v '^\s*$' > "$out/base.folded"
  : > "$input"
  rep=0
  while (( $(stat -c %s "$input") < 300000000 )); do
    sed "s/^/host$((rep % prefixes));/" "$out/base.folded" >> "$input"
    rep=$((rep + 1))
  done
fi
orac="$root/artifacts/bin/Orac.Cli/release_linux-x64/orac"
[[ -x $orac ]] || dotnet build "$root/src/Orac.Cli/Orac.Cli.csproj" -c Release -nologo -v q
bytes=$(stat -c %s "$input")
/usr/bin/time -v "$orac" flamegraph "$input" > /dev/null 2> "$out/time.txt"
secs=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s }' "$out/time.txt")
rss_kb=$(awk -F': ' '/Maximum resident/ { print $2 }' "$out/time.txt")
awk -v b="$bytes" -v s="$secs" -v r="$rss_kb" -v min="$min_mbps" -v max="$max_rss" 'BEGIN {
  mbps = b / 1e6 / s; rss = r / 1024;
  printf "orac flamegraph: %.0f MB in %.2f s = %.0f MB/s, peak RSS %.1f MB (budget >= %d MB/s, <= %d MB)\n", b / 1e6, s, mbps, rss, min, max;
  exit (mbps >= min && rss <= max) ? 0 : 1 }'
