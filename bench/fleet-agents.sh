#!/usr/bin/env bash
# Fleet control-plane load test for `orac serve` (issue #5): a real server process (Native AOT, fresh data folder)
# and `fleetsim agents`: N simulated agents speaking the real protocol (register, 20 s heartbeat long polls, task
# results, no sampling; tests/Shared/Fleet), a fleet-wide 2 s profile task (deadline 15 s) every 30 s, one settings
# change halfway. Writes bench/out/fleet-agents-N.tsv and checks bench/fleet-agents-budgets.tsv (exit 1 when missed).
#
#   bench/fleet-agents.sh                          200 agents for 120 s
#   bench/fleet-agents.sh --agents 1000            1,000 agents
#   bench/fleet-agents.sh --agents 1000 --uploads  agents also upload a small profile every 10 s
#
# The server and the simulator share this machine; the simulator's own CPU counts against the server.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
agents=200; duration=120; port=4048; task_every=30; uploads=0
while (($#)); do
  case "$1" in
    --agents) agents="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --task-every) task_every="$2"; shift 2 ;;
    --uploads) uploads=1; shift ;;
    *) echo "usage: bench/fleet-agents.sh [--agents N] [--duration S] [--task-every S] [--uploads] [--port P]" >&2; exit 2 ;;
  esac
done
work="${ORAC_BENCH_DIR:-/tmp/orac-bench}"
out="$root/bench/out"
mkdir -p "$work" "$out"
"$root/orac" version >/dev/null   # publishes the Native AOT binary when it is out of date
orac="$root/artifacts/publish/orac/orac"
dotnet build "$root/bench/FleetSim/FleetSim.csproj" -c Release -nologo -v q -clp:ErrorsOnly >&2
sim="$root/artifacts/bin/FleetSim/release_linux-x64/fleetsim"

data="$work/fleet-agents-data"
rm -rf "$data"
"$orac" serve --listen "127.0.0.1:$port" --data "$data" 2> "$work/serve-agents.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 200); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null || { echo "fleet-agents: the server did not start:" >&2; cat "$work/serve-agents.log" >&2; exit 1; }
token=$(grep -A1 'first run' "$work/serve-agents.log" | tail -1 | tr -d '[:space:]')
[[ -n "$token" ]] || { echo "fleet-agents: no bootstrap token in serve-agents.log" >&2; exit 1; }
rss_idle=$(awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status")
echo "fleet-agents: $(nproc) cores; $agents agents for ${duration}s, a task every ${task_every}s; server pid $pid (RSS ${rss_idle} MB idle)" >&2

results="$out/fleet-agents-$agents.tsv"
printf 'figure\tvalue\tunit\n' > "$results"
printf 'server_rss_idle_mb\t%s\tMB\n' "$rss_idle" | tee -a "$results" >&2
"$sim" agents --server "http://127.0.0.1:$port" --token "$token" --agents "$agents" --duration "$duration" \
  --task-every "$task_every" --task-duration 2000 --task-deadline 15000 --uploads "$uploads" --pid "$pid" \
  | tee -a "$results" >&2 || true
grep -q '^tasks_created' "$results" || { echo "fleet-agents: fleetsim printed no figures; server log:" >&2; tail -20 "$work/serve-agents.log" >&2; exit 1; }

awk -F'\t' '
  FNR == 1 { file++ ; next }
  file == 1 { v[$1] = $2; next }
  $0 !~ /^#/ && NF >= 3 {
    name = $1
    if (!(name in v)) { printf "%-24s %10s %3s %8s  MISSING\n", name, "n/a", $2, $3; fail = 1; next }
    ok = ($2 == "<=") ? (v[name] + 0 <= $3 + 0) : (v[name] + 0 >= $3 + 0);
    if (!ok) fail = 1;
    printf "%-24s %10s %3s %8s  %s\n", name, v[name], $2, $3, ok ? "ok" : "MISS"
  }
  END { exit fail }' "$results" "$root/bench/fleet-agents-budgets.tsv"
