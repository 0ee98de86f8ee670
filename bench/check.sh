#!/usr/bin/env bash
# Checks bench results (bench/out/results.tsv) against bench/budgets.tsv and prints each throughput
# as a ratio to the reference tools: measured in the same run when bench/run.sh found them
# ("ref:TOOL" rows), else the figures recorded in bench/reference.tsv (marked "recorded").
# Exit 0 when every budget is met, 1 otherwise.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
results="${1:-$root/bench/out/results.tsv}"
awk -F'\t' '
  FNR == 1 { file++ }
  file == 1 && FNR > 1 { mbps[$1] = $4; rss[$1] = $5; secs[$1] = $3; next }
  file == 2 && $0 !~ /^#/ && NF >= 4 { nr++; rb[nr] = $1; rt[nr] = $2; rm[nr] = $3; next }
  file == 3 && $0 !~ /^#/ && NF >= 4 { nb++; b[nb] = $1; m[nb] = $2; op[nb] = $3; lim[nb] = $4; next }
  END {
    if (rss["collapse-pipe-4x"] > 0)
      growth = 100 * (rss["collapse-pipe-8x"] - rss["collapse-pipe-4x"]) / rss["collapse-pipe-4x"];
    if ("startup-x20" in secs) startup = 1000 * secs["startup-x20"] / 20;
    fail = 0;
    printf "%-12s %-14s %9s %3s %7s  %-6s %s\n", "benchmark", "metric", "measured", "op", "budget", "result", "compared with";
    for (i = 1; i <= nb; i++) {
      n = b[i]; v = ""; cmp = "";
      if (m[i] == "mbps") v = mbps[n];
      else if (m[i] == "rss_mb") v = rss[n];
      else if (m[i] == "rss_growth_pct" && rss["collapse-pipe-4x"] > 0) v = growth;
      else if (m[i] == "ms" && startup != "") v = startup;
      if (v == "") { printf "%-12s %-14s %9s %3s %7s  %-6s\n", n, m[i], "n/a", op[i], lim[i], "MISSING"; fail = 1; continue }
      ok = (op[i] == ">=") ? (v + 0 >= lim[i] + 0) : (v + 0 <= lim[i] + 0);
      if (!ok) fail = 1;
      if (m[i] == "mbps") {
        for (k in mbps) if (k ~ /^ref:/ && ((n ~ /^collapse/ && k ~ /collapse/) || (n ~ /^flamegraph/ && k ~ /flamegraph/) || (n ~ /^diff/ && k ~ /diff/)))
          cmp = cmp sprintf("%.2fx %s (same run %.1f MB/s); ", v / mbps[k], substr(k, 5), mbps[k]);
        if (cmp == "") for (j = 1; j <= nr; j++) if (rb[j] == n && rm[j] > 0)
          cmp = cmp sprintf("%.2fx %s (recorded %s MB/s); ", v / rm[j], rt[j], rm[j]);
      }
      printf "%-12s %-14s %9.1f %3s %7s  %-6s %s\n", n, m[i], v, op[i], lim[i], ok ? "ok" : "MISS", cmp;
    }
    if ("wc-l" in mbps) printf "yardstick: wc -l reads the same file at %.1f MB/s in this run\n", mbps["wc-l"];
    exit fail
  }' "$results" "$root/bench/reference.tsv" "$root/bench/budgets.tsv"
