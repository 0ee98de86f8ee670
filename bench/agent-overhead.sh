#!/usr/bin/env bash
# Overhead of `orac agent` on this machine: the AOT binary against a local `orac serve --memory`, continuous
# profiling at 19 Hz on every CPU with uploads every 10 s, for 60 s. A steady background load
# (tests/data/record/hot.c spinning on one core) gives the sampler real stacks to walk and symbolize.
#
# Measured from /proc/PID of the agent process:
#   CPU     (utime + stime at the end - at the start, after a 10 s warm-up) / CLK_TCK / wall seconds
#   RSS     VmHWM (peak) and VmRSS (steady, at the end) from /proc/PID/status
#
#   bench/agent-overhead.sh                  60 s at 19 Hz
#   bench/agent-overhead.sh --seconds 30 --hz 49
#
# Budget: <= 0.5 % of one core and <= 60 MB RSS (peak) at 19 Hz including uploads. Prints a result table;
# exits 1 when the budget is missed. Needs root (perf_event_open on every CPU).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds=60
hz=19
warmup=10
while (($#)); do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --hz) hz="$2"; shift 2 ;;
    *) echo "usage: bench/agent-overhead.sh [--seconds N] [--hz N]" >&2; exit 2 ;;
  esac
done

work="$(mktemp -d /tmp/orac-agent-bench.XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

"$root/orac" version >/dev/null 2>&1   # build the AOT binary first, outside the measurement
bin="$root/artifacts/publish/orac/orac"
tck="$(getconf CLK_TCK)"

gcc -O1 -fno-omit-frame-pointer -o "$work/hot" "$root/tests/data/record/hot.c"
"$work/hot" $((seconds + warmup + 60)) &
pids+=($!)

# The server: in memory, a free port, an ingest token for the agent.
XDG_CONFIG_HOME="$work/config" "$bin" serve --memory --listen 127.0.0.1:0 --data "$work/data" >"$work/serve.out" 2>"$work/serve.err" &
serve_pid=$!
pids+=("$serve_pid")
url=""
token=""
for _ in $(seq 1 100); do
  url="$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$work/serve.err" "$work/serve.out" 2>/dev/null | head -1 | sed 's/^[^:]*://' || true)"
  token="$(grep -ohE 'orac_[A-Za-z0-9_-]+' "$work/serve.err" "$work/serve.out" 2>/dev/null | head -1 || true)"
  [[ -n "$url" && -n "$token" ]] && break
  sleep 0.1
done
if [[ -z "$url" || -z "$token" ]]; then
  echo "agent-overhead: the server did not start:" >&2
  cat "$work/serve.err" >&2
  exit 1
fi

"$bin" agent --server "$url" --token "$token" --hz "$hz" --state "$work/state" --label service_name=bench >"$work/agent.out" 2>"$work/agent.err" &
agent_pid=$!
pids+=("$agent_pid")

ticks() { awk '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); print f[12] + f[13] }' "/proc/$1/stat"; }
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

sleep "$warmup"
t0="$(ticks "$agent_pid")"
w0="$(date +%s.%N)"
sleep "$seconds"
t1="$(ticks "$agent_pid")"
w1="$(date +%s.%N)"
hwm="$(status_kb "$agent_pid" VmHWM)"
rss="$(status_kb "$agent_pid" VmRSS)"

kill -TERM "$agent_pid"
wait "$agent_pid" || true
uploaded="$(grep -oE 'stopped; [0-9,]+ samples uploaded' "$work/agent.err" | tr -dc '0-9' || true)"
if ! grep -q "registered host" "$work/agent.err"; then
  echo "agent-overhead: the agent did not register:" >&2
  cat "$work/agent.err" >&2
  exit 1
fi

awk -v t0="$t0" -v t1="$t1" -v w0="$w0" -v w1="$w1" -v tck="$tck" -v hwm="$hwm" -v rss="$rss" -v hz="$hz" -v n="${uploaded:-0}" -v s="$seconds" 'BEGIN {
  wall = w1 - w0; cpu = (t1 - t0) / tck; pct = 100 * cpu / wall;
  peak = hwm / 1024; steady = rss / 1024;
  ok_cpu = pct <= 0.5 ? "ok" : "MISSED"; ok_rss = peak <= 60 ? "ok" : "MISSED";
  printf "orac agent at %s Hz, uploads every 10 s, %d s measured after a 10 s warm-up (all figures measured)\n", hz, s;
  printf "%-22s %14s %12s  %s\n", "figure", "value", "budget", "result";
  printf "%-22s %12.3f %% %10s %%  %s\n", "CPU, % of one core", pct, "<= 0.5", ok_cpu;
  printf "%-22s %12.2f s %12s\n", "CPU time", cpu, "";
  printf "%-22s %11.1f MB %9s MB  %s\n", "peak RSS (VmHWM)", peak, "<= 60", ok_rss;
  printf "%-22s %11.1f MB %12s\n", "steady RSS (VmRSS)", steady, "";
  printf "%-22s %14s %12s\n", "samples uploaded", n, "";
  if (ok_cpu != "ok" || ok_rss != "ok") exit 1 }'
