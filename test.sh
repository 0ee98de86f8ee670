#!/usr/bin/env bash
# Runs Orac's whole test suite. Installs what the tests need when it is missing (this machine is
# Debian; CI runs this as root on a clean clone), then runs `dotnet test`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"

need_apt=()
command -v perl >/dev/null 2>&1 || need_apt+=(perl)
# linux-perf: RealPerfTests record a real workload and feed `perf script` to orac.
[[ -x /usr/bin/perf ]] || need_apt+=(linux-perf)
command -v zstd >/dev/null 2>&1 || need_apt+=(zstd)
command -v xmllint >/dev/null 2>&1 || need_apt+=(libxml2-utils)
# chromium: end-to-end tests of the flame graph SVG script (search from ?s= in the URL) and of the web UI
# (Playwright drives the system browser; tests/Orac.Server.Tests/Browser); skipped when absent.
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
# bpftrace: `orac trace` runs its catalogue of eBPF tools through it.
command -v bpftrace >/dev/null 2>&1 || need_apt+=(bpftrace)
# A C toolchain links ./orac's Native AOT build (the binary users run; PublishedBinaryTests check it)
# and compiles the known-hot workloads `orac record` tests sample.
command -v clang >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || need_apt+=(gcc libc6-dev)
# nodejs + npm: the real-client tests run the @pyroscope/nodejs package and the MCP clients against `orac serve`.
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
if ((${#need_apt[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "test.sh: installing ${need_apt[*]}" >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "test.sh: missing ${need_apt[*]} (run as root to install them)" >&2
  fi
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "test.sh: the .NET 10 SDK is required" >&2
  exit 1
fi

if [[ -d ../shared/corpus ]]; then
  echo "test.sh: corpus found at ../shared/corpus: compatibility suite will run" >&2
else
  echo "test.sh: ../shared/corpus not found: compatibility suite will be SKIPPED" >&2
fi

# The Pyroscope Node.js client, at the versions package-lock.json pins (node_modules is not committed).
if command -v npm >/dev/null 2>&1; then
  (cd tests/clients/pyroscope-nodejs && npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
    || echo "test.sh: npm ci in tests/clients/pyroscope-nodejs failed: PyroscopeNodeClientTests will fail" >&2
fi

# The real MCP clients (the official TypeScript SDK and the MCP Inspector CLI) that McpClientTests run.
if command -v npm >/dev/null 2>&1; then
  (cd tests/clients/mcp && npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
    || echo "test.sh: npm ci in tests/clients/mcp failed: McpClientTests will fail" >&2
fi

# Build the CLI once in Release: end-to-end tests run the real binary. `./orac version` builds the
# binary ./orac runs (Native AOT), which PublishedBinaryTests compare with the JIT build.
dotnet build src/Orac.Cli/Orac.Cli.csproj -c Release -nologo -v q -clp:ErrorsOnly
./orac version
# `|| status=...`: with set -e and pipefail a failing run would otherwise end the script before the summary line.
status=0
dotnet test Orac.slnx -c Release -nologo -v q --logger "console;verbosity=normal" "$@" 2>&1 | tee .test-output.log || status=${PIPESTATUS[0]}
# CI shows only the end of the log: repeat each failed test there with the first lines of its message.
awk '
  /^[[:space:]]+Failed [^:]/ { show = 12; print "FAILED:" substr($0, index($0, "Failed ") + 6); next }
  /^[[:space:]]+(Passed|Skipped) / { show = 0 }
  show > 0 { print "  " $0; show-- }' .test-output.log
# One plain closing line for CI: "N passed, N failed, N skipped".
awk '
  /^[[:space:]]+Passed:[[:space:]]+[0-9]+[[:space:]]*$/ { p += $2 }
  /^[[:space:]]+Failed:[[:space:]]+[0-9]+[[:space:]]*$/ { f += $2 }
  /^[[:space:]]+Skipped:[[:space:]]+[0-9]+[[:space:]]*$/ { s += $2 }
  END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' .test-output.log
rm -f .test-output.log
exit "$status"
