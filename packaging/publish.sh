#!/usr/bin/env bash
# Self-contained single-file binaries of haul for edge boxes and servers: linux-x64 and linux-arm64,
# into .build/dist/<rid>/haul (no .NET needed on the target; glibc and OpenSSL 3 from the system).
# Native AOT: machine code ahead of time, SQLite linked in statically, no JIT at run time. Measured
# (docs/benchmarks.md, "Node"): 30 MB instead of 146 MB, idle RSS 50 MB instead of 102 MB.
# The arm64 binary is cross-compiled here (clang + Debian's aarch64 cross toolchain and arm64
# libsqlite3-dev through multiarch); the script installs what is missing when run as root.
# Usage: [HAUL_PUBLISH=r2r] packaging/publish.sh [RID...]    (default: linux-x64 linux-arm64)
# HAUL_PUBLISH=r2r builds the earlier form instead: a single-file bundle of the JIT runtime with
# ReadyToRun code (146 MB, idle RSS 102 MB), for hosts without a C toolchain.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rids=("$@")
((${#rids[@]})) || rids=(linux-x64 linux-arm64)
mode=${HAUL_PUBLISH:-aot}

install() {
  if [[ $(id -u) != 0 ]]; then
    echo "publish.sh: missing $*; install them (as root: apt-get install $*) or use HAUL_PUBLISH=r2r" >&2
    exit 3
  fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

cc=""
if [[ $mode == aot ]]; then
  for c in clang clang-19 clang-16 clang-15 clang-14; do command -v "$c" >/dev/null && { cc=$c; break; }; done
  need=()
  [[ -n $cc ]] || need+=(clang)
  [[ -f /usr/include/zlib.h ]] || need+=(zlib1g-dev)
  for rid in "${rids[@]}"; do
    case "$rid" in
      linux-x64) [[ -f /usr/lib/x86_64-linux-gnu/libsqlite3.a ]] || need+=(libsqlite3-dev) ;;
      linux-arm64)
        if [[ $(uname -m) != aarch64 ]]; then
          command -v aarch64-linux-gnu-ld.bfd >/dev/null || need+=(gcc-aarch64-linux-gnu)
          if [[ ! -f /usr/lib/aarch64-linux-gnu/libsqlite3.a ]]; then
            dpkg --print-foreign-architectures | grep -qx arm64 || { [[ $(id -u) == 0 ]] && dpkg --add-architecture arm64; } || true
            need+=(libsqlite3-dev:arm64)
          fi
        else
          [[ -f /usr/lib/aarch64-linux-gnu/libsqlite3.a ]] || need+=(libsqlite3-dev)
        fi
        ;;
      *) echo "publish.sh: unsupported RID '$rid'; use linux-x64 or linux-arm64" >&2; exit 2 ;;
    esac
  done
  if ((${#need[@]})); then install "${need[@]}"; fi
  [[ -n $cc ]] || cc=clang
fi

for rid in "${rids[@]}"; do
  out="$repo/.build/dist/$rid"
  rm -rf "$out"
  if [[ $mode == aot ]]; then
    case "$rid" in
      linux-x64) sqlite=/usr/lib/x86_64-linux-gnu/libsqlite3.a ;;
      linux-arm64) sqlite=/usr/lib/aarch64-linux-gnu/libsqlite3.a ;;
    esac
    dotnet publish "$repo/src/Haul.Cli/Haul.Cli.csproj" -c Release -r "$rid" -o "$out" --nologo -v quiet \
      -p:PublishAot=true -p:CppCompilerAndLinker="$cc" -p:StripSymbols=true -p:DebugType=none \
      -p:SqliteStaticLib="$sqlite" >&2
    # SQLite is inside the binary (DirectPInvoke); the package's shared library is not needed.
    rm -f "$out/libe_sqlite3.so"
  else
    dotnet publish "$repo/src/Haul.Cli/Haul.Cli.csproj" -c Release -r "$rid" --self-contained true -o "$out" --nologo -v quiet \
      -p:PublishSingleFile=true -p:PublishReadyToRun=true -p:EnableCompressionInSingleFile=false \
      -p:IncludeNativeLibrariesForSelfExtract=true -p:DebugType=none >&2
  fi
  printf '%s %s bytes\n' "$out/haul" "$(stat -c %s "$out/haul")"
done
