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
command -v nft >/dev/null || need_pkgs+=(nftables)     # the chaos tests cut the loopback link for a node's port
command -v file >/dev/null || need_pkgs+=(file)         # checks the arm64 binary's architecture
command -v qemu-aarch64 >/dev/null || need_pkgs+=(qemu-user)  # runs the arm64 binary once (user-mode emulation)
[[ -x /usr/bin/chromium ]] || need_pkgs+=(chromium)     # the dashboard's end-to-end test (Playwright drives it)
if ((${#need_pkgs[@]})) && [[ $(id -u) == 0 ]]; then
  apt-get update -qq && apt-get install -y -qq "${need_pkgs[@]}"
fi

# s3rver 3.7.1 from npm, once, into .build/tools (the S3 tests start it on a free port).
if [[ ! -x .build/tools/node_modules/.bin/s3rver ]]; then
  mkdir -p .build/tools && npm install --prefix .build/tools --no-audit --no-fund --silent s3rver@3.7.1
fi

passed=0 failed=0 skipped=0
# Runs the suite (extra dotnet test arguments in "$@") and adds its counts to the totals; a run that
# ends without a summary, or fails with none counted, counts as one failure. Sets $status.
run_suite() {
  local log summary f
  log=$(mktemp)
  set +e
  dotnet test tests/Haul.Tests/Haul.Tests.csproj -c Release --nologo "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  set -e
  summary=$(grep -E "(Passed|Failed)! +- +Failed: +[0-9]+, Passed: +[0-9]+" "$log" | tail -1 || true)
  rm -f "$log"
  f=1
  if [[ -n "$summary" ]]; then
    f=$(sed -E 's/.*Failed: +([0-9]+).*/\1/' <<<"$summary")
    passed=$((passed + $(sed -E 's/.*Passed: +([0-9]+).*/\1/' <<<"$summary")))
    skipped=$((skipped + $(sed -E 's/.*Skipped: +([0-9]+).*/\1/' <<<"$summary")))
  fi
  if [[ $status != 0 && $f == 0 ]]; then
    echo "the test run did not complete (aborted or crashed): counted as a failure"
    f=1
  fi
  failed=$((failed + f))
}

run_suite

smoke=0
if [[ $status == 0 ]]; then
  echo "--- smoke: ./haul quickstart --size-mb 50"
  if ./haul quickstart --size-mb 50; then passed=$((passed + 1)); else failed=$((failed + 1)); smoke=1; fi
fi

if [[ $status == 0 ]]; then
  # Packaging: both Native AOT single-file binaries build; the x64 one runs the quick start (two
  # nodes, a real transfer); the arm64 one starts under qemu user-mode emulation and makes a node.
  echo "--- packaging: packaging/publish.sh linux-x64 linux-arm64, the x64 binary runs the quick start, the arm64 one runs under qemu"
  arm=.build/dist/linux-arm64/haul
  qemu_libs() {  # the arm64 binary's own shared libraries (glibc, OpenSSL) for qemu -L /
    [[ -e /usr/lib/aarch64-linux-gnu/libssl.so.3 ]] || { [[ $(id -u) == 0 ]] && apt-get install -y -qq libc6:arm64 libssl3:arm64 >/dev/null; }
  }
  if packaging/publish.sh linux-x64 linux-arm64 && file "$arm" | grep -q aarch64 \
     && .build/dist/linux-x64/haul quickstart --size-mb 20 \
     && { ! command -v qemu-aarch64 >/dev/null || { qemu_libs; h=$(mktemp -d) && qemu-aarch64 -L / "$arm" --home "$h" init --name pi >/dev/null \
          && qemu-aarch64 -L / "$arm" --home "$h" id | grep -q . && rm -rf "$h" && echo "arm64 binary: init and id under qemu-aarch64 ok"; }; }; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); smoke=1
  fi

  # The shipped binary is Native AOT: every test that runs 'haul' as a process runs again against
  # it (trimming or AOT-only breakage shows up here, not on a user's box).
  if [[ $smoke == 0 ]]; then
    echo "--- the test suite again, processes from the Native AOT binary (HAUL_TEST_BINARY)"
    HAUL_TEST_BINARY="$PWD/.build/dist/linux-x64/haul" run_suite --no-build
  fi
fi

echo "$passed passed, $failed failed, $skipped skipped"
[[ $status == 0 && $smoke == 0 ]]
