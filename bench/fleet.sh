#!/usr/bin/env bash
# Fleet benchmark for `orac serve` (issue #4): a real server process and bench/FleetSim replaying real
# recorded stacks as N agents uploading every 10 s through the Pyroscope-compatible /ingest route.
#
#   bench/fleet.sh                    1,000 agents for 120 s, then 7 days of 100-host history, then queries
#   bench/fleet.sh --agents 200 --duration 60 --days 2    smaller run
#   bench/fleet.sh --format folded --no-history           folded bodies instead of gzip pprof; ingest only
#
# Stacks: `orac collapse perf` of ../shared/corpus/bench/big.perf.zst (a real recording of this kind of
# machine; 48,597 distinct stacks). Writes bench/out/fleet.tsv and checks bench/fleet-budgets.tsv
# (exit 1 when a budget is missed). The server and the simulator share this 2-core machine, so the
# simulator's own CPU use (building and sending ~30 MB/s of folded text) counts against the server.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
agents=1000; duration=120; days=7; port=4047; format=pprof; skip_history=0
while (($#)); do
  case "$1" in
    --agents) agents="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --days) days="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --format) format="$2"; shift 2 ;;
    --no-history) skip_history=1; shift ;;
    *) echo "usage: bench/fleet.sh [--agents N] [--duration S] [--days D] [--port P]" >&2; exit 2 ;;
  esac
done
work="${ORAC_BENCH_DIR:-/tmp/orac-bench}"
out="$root/bench/out"
mkdir -p "$work" "$out"
corpus="${ORAC_CORPUS:-$root/../shared/corpus}"
"$root/orac" version >/dev/null
orac="$root/artifacts/publish/orac/orac"
dotnet build "$root/bench/FleetSim/FleetSim.csproj" -c Release -nologo -v q -clp:ErrorsOnly >&2
sim="$root/artifacts/bin/FleetSim/release_linux-x64/fleetsim"

source="$work/big.folded"
if [[ ! -s "$source" ]]; then
  big="$work/big.perf"
  if [[ ! -s "$big" ]]; then
    [[ -f "$corpus/bench/big.perf.zst" ]] || { echo "fleet: $corpus/bench/big.perf.zst not found (needs ../shared/corpus)" >&2; exit 1; }
    zstd -q -d --long=27 "$corpus/bench/big.perf.zst" -o "$big"
  fi
  "$orac" collapse perf "$big" > "$source"
fi

results="$out/fleet.tsv"
printf 'figure\tvalue\tunit\n' > "$results"
data="$work/fleet-data"
pid=""
stop() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; pid=""; }
trap stop EXIT
start() {
  "$orac" serve --listen "127.0.0.1:$port" --data "$data" 2> "$work/serve.log" &
  pid=$!
  for _ in $(seq 200); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "fleet: the server did not start:" >&2; cat "$work/serve.log" >&2; exit 1
}
status() { curl -fsS -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/status"; }
field() { sed -n "s/.*\"$1\": *\([0-9.]*\).*/\1/p" | head -1; }
rss_mb() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status"; }
hwm_mb() { awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status"; }
emit() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" | tee -a "$results" >&2; }

# 1. Sustained ingest: N agents, one profile each every 10 s.
rm -rf "$data"
start
token=$(grep -A1 'first run' "$work/serve.log" | tail -1 | tr -d '[:space:]')
[[ -n "$token" ]] || { echo "fleet: no bootstrap token in serve.log" >&2; exit 1; }
base_rss=$(rss_mb)
echo "fleet: $(nproc) cores; $agents agents for ${duration}s; server pid $pid (RSS ${base_rss} MB idle)" >&2
"$sim" ingest --server "http://127.0.0.1:$port" --token "$token" --source "$source" \
  --agents "$agents" --services 10 --stacks 2000 --interval 10 --duration "$duration" --format "$format" | tee -a "$results" >&2 || true
st=$(status)
hot_samples=$(field hotSamples <<< "$st"); hot_bytes=$(field hotBytes <<< "$st")
emit server_rss_idle_mb "$base_rss" MB
emit server_rss_after_ingest_mb "$(rss_mb)" MB
emit server_rss_peak_mb "$(hwm_mb)" MB
emit hot_samples "$hot_samples" count
emit hot_bytes_per_sample "$(awk -v b="$hot_bytes" -v n="$hot_samples" 'BEGIN { printf "%.1f", (n > 0 ? b / n : 0) }')" "bytes (store's own estimate)"
emit rss_growth_per_hot_sample "$(awk -v a="$(rss_mb)" -v b="$base_rss" -v n="$hot_samples" 'BEGIN { printf "%.1f", (n > 0 ? (a - b) * 1048576 / n : 0) }')" "bytes (process RSS growth / hot samples)"
stop

if ((skip_history == 0)); then
# 2. History: 100 hosts of one service, one upload per host per hour for D days (the 1 h rollup holds the
# same rows as 360 uploads an hour would give), then the flame graph of that service over 24 h and 7 d.
rm -rf "$data"
start
token=$(grep -A1 'first run' "$work/serve.log" | tail -1 | tr -d '[:space:]')
"$sim" seed --server "http://127.0.0.1:$port" --token "$token" --source "$source" \
  --agents 100 --services 1 --stacks 2000 --hours $((days * 24)) --step 3600 | tee -a "$results" >&2
stop   # a graceful stop flushes hot data to the cold tier: the restart reads what is on disk
start
st=$(status)
emit cold_rows "$(field coldRows <<< "$st")" rows
emit cold_bytes_per_row "$(awk -v b="$(field coldBytes <<< "$st")" -v n="$(field coldRows <<< "$st")" 'BEGIN { printf "%.1f", (n > 0 ? b / n : 0) }')" "bytes on disk per stored (bucket, stack, value) row, all tiers"
"$sim" query --server "http://127.0.0.1:$port" --token "$token" --service svc-0 --range 24h --runs 5 | tee -a "$results" >&2
"$sim" query --server "http://127.0.0.1:$port" --token "$token" --service svc-0 --range "${days}d" --runs 5 | tee -a "$results" >&2
stop

fi

# Budgets.
awk -F'\t' -v days="$days" '
  FNR == 1 { file++ ; next }
  file == 1 { v[$1] = $2; next }
  $0 !~ /^#/ && NF >= 3 {
    name = $1; sub("DAYS", days, name);
    if (!(name in v)) { printf "%-28s %10s %3s %8s  MISSING\n", name, "n/a", $2, $3; fail = 1; next }
    ok = ($2 == "<=") ? (v[name] + 0 <= $3 + 0) : (v[name] + 0 >= $3 + 0);
    if (!ok) fail = 1;
    printf "%-28s %10s %3s %8s  %s\n", name, v[name], $2, $3, ok ? "ok" : "MISS"
  }
  END { exit fail }' "$results" "$root/bench/fleet-budgets.tsv"
