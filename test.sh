#!/usr/bin/env bash
# The whole test suite: builds, runs every test, then the quick start as a smoke test.
# Installs what it needs; safe to run on a fresh machine of this project's kind.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

need_pkgs=()
command -v du >/dev/null || need_pkgs+=(coreutils)
command -v mount >/dev/null || need_pkgs+=(mount)
command -v rclone >/dev/null || need_pkgs+=(rclone)     # reads back what sync wrote to S3
command -v node >/dev/null || need_pkgs+=(nodejs npm)   # runs s3rver, the S3-compatible test server
command -v file >/dev/null || need_pkgs+=(file)         # checks the arm64 binary's architecture
[[ -x /usr/bin/chromium ]] || need_pkgs+=(chromium)     # the dashboard's end-to-end test (Playwright drives it)
if ((${#need_pkgs[@]})) && [[ $(id -u) == 0 ]]; then
  apt-get update -qq && apt-get install -y -qq "${need_pkgs[@]}"
fi

# s3rver 3.7.1 from npm, once, into .build/tools (the S3 tests start it on a free port).
if [[ ! -x .build/tools/node_modules/.bin/s3rver ]]; then
  mkdir -p .build/tools && npm install --prefix .build/tools --no-audit --no-fund --silent s3rver@3.7.1
fi

log=$(mktemp)
set +e
dotnet test tests/Haul.Tests/Haul.Tests.csproj -c Release --nologo 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
summary=$(grep -E "(Passed|Failed)! +- +Failed: +[0-9]+, Passed: +[0-9]+" "$log" | tail -1 || true)
rm -f "$log"
if [[ -n "$summary" ]]; then
  failed=$(sed -E 's/.*Failed: +([0-9]+).*/\1/' <<<"$summary")
  passed=$(sed -E 's/.*Passed: +([0-9]+).*/\1/' <<<"$summary")
  skipped=$(sed -E 's/.*Skipped: +([0-9]+).*/\1/' <<<"$summary")
else
  failed=1 passed=0 skipped=0
fi

if [[ $status != 0 && $failed == 0 ]]; then
  echo "the test run did not complete (aborted or crashed): counted as a failure"
  failed=1
fi

smoke=0
if [[ $status == 0 ]]; then
  echo "--- smoke: ./haul quickstart --size-mb 50"
  if ./haul quickstart --size-mb 50; then passed=$((passed + 1)); else failed=$((failed + 1)); smoke=1; fi
fi

if [[ $status == 0 ]]; then
  # Packaging: both self-contained single-file binaries build; the x64 one runs the quick start
  # (two nodes, a real transfer) on the runtime inside it.
  echo "--- packaging: packaging/publish.sh linux-x64 linux-arm64, then the x64 binary runs the quick start"
  if packaging/publish.sh linux-x64 linux-arm64 && file .build/dist/linux-arm64/haul | grep -q aarch64 \
     && .build/dist/linux-x64/haul quickstart --size-mb 20; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); smoke=1
  fi
fi

echo "$passed passed, $failed failed, $skipped skipped"
[[ $status == 0 && $smoke == 0 ]]
