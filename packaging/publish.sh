#!/usr/bin/env bash
# Self-contained single-file binaries of haul for edge boxes and servers: linux-x64 and linux-arm64,
# into .build/dist/<rid>/haul (no .NET needed on the target). Prints each binary's size.
# Usage: [HAUL_COMPRESS=1] packaging/publish.sh [RID...]    (default: linux-x64 linux-arm64)
# HAUL_COMPRESS=1 compresses the bundle: 67 MB instead of 146 MB (x64), but the assemblies are then
# unpacked into memory at every start: idle RSS 146 MB instead of 102 MB and 1.2 s to serve instead
# of 0.6 s (docs/benchmarks.md, "Node"). The default favours memory and start-up on the box.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rids=("$@")
((${#rids[@]})) || rids=(linux-x64 linux-arm64)
for rid in "${rids[@]}"; do
  out="$repo/.build/dist/$rid"
  rm -rf "$out"
  # ReadyToRun: start-up without the JIT; the native SQLite library goes inside the bundle, so the
  # file is all there is to copy.
  dotnet publish "$repo/src/Haul.Cli/Haul.Cli.csproj" -c Release -r "$rid" --self-contained true -o "$out" --nologo -v quiet \
    -p:PublishSingleFile=true -p:PublishReadyToRun=true -p:EnableCompressionInSingleFile="$([[ ${HAUL_COMPRESS:-0} == 1 ]] && echo true || echo false)" \
    -p:IncludeNativeLibrariesForSelfExtract=true -p:DebugType=none >&2
  printf '%s %s bytes\n' "$out/haul" "$(stat -c %s "$out/haul")"
done
