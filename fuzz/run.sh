#!/usr/bin/env bash
# Coverage-guided fuzzing of one Haul parser with AFL++ and SharpFuzz.
# Usage: fuzz/run.sh TARGET SECONDS      (targets: fuzz/Haul.Fuzz/Targets.cs, or run without arguments)
# Installs what it needs (afl++ from Debian, the SharpFuzz.CommandLine 2.3.0 dotnet tool), builds
# fuzz/Haul.Fuzz, instruments Haul.Core.dll and haul.dll, then runs afl-fuzz at nice 19 from the seed
# corpus fuzz/corpus/TARGET for SECONDS. Findings go to fuzz/findings/TARGET (not committed); the
# last lines printed are the figures: execs, CPU seconds, crashes and hangs.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
target=${1:-}
seconds=${2:-600}
if [[ -z $target ]]; then
  echo "usage: fuzz/run.sh TARGET SECONDS; targets: $(ls "$here/corpus" | tr '\n' ' ')" >&2
  exit 2
fi
[[ -d $here/corpus/$target ]] || { echo "no seed corpus fuzz/corpus/$target" >&2; exit 2; }

if ! command -v afl-fuzz >/dev/null; then
  apt-get update -qq && apt-get install -y -qq afl++ >/dev/null
fi
tools="$here/.tools"
if [[ ! -x $tools/sharpfuzz ]]; then
  dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$tools" >/dev/null
fi

# One instrumented build per target, so several targets can run side by side.
out="$here/bin/$target"
lock="$here/bin/.build.lock"
mkdir -p "$here/bin"
(
  flock 9
  rm -rf "$out"
  nice dotnet publish "$here/Haul.Fuzz/Haul.Fuzz.csproj" -c Release -o "$out" --nologo -v q >/dev/null
) 9>"$lock"
for dll in Haul.Core.dll haul.dll; do
  "$tools/sharpfuzz" "$out/$dll" >/dev/null
done

findings="$here/findings/$target"
rm -rf "$findings"
mkdir -p "$findings"
export AFL_SKIP_BIN_CHECK=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1
export DOTNET_TieredPGO=0 DOTNET_TC_QuickJitForLoops=1 DOTNET_gcServer=0
TIMEFORMAT='%U %S'
cpu=$( { time nice -n 19 afl-fuzz -i "$here/corpus/$target" -o "$findings" -t 5000 -m none -V "$seconds" \
  dotnet "$out/Haul.Fuzz.dll" "$target" >"$findings/afl.log" 2>&1 || true; } 2>&1 )
stats="$findings/default/fuzzer_stats"
if [[ ! -f $stats ]]; then
  echo "afl-fuzz did not start; see $findings/afl.log" >&2
  tail -20 "$findings/afl.log" >&2
  exit 1
fi
get() { sed -nE "s/^$1 *: *//p" "$stats"; }
crashes=$(ls "$findings/default/crashes" 2>/dev/null | grep -vc README || true)
hangs=$(ls "$findings/default/hangs" 2>/dev/null | grep -vc README || true)
echo "target=$target seconds=$seconds execs=$(get execs_done) cpu_s=$(awk -v u="${cpu% *}" -v s="${cpu#* }" 'BEGIN{printf "%.0f", u+s}') paths=$(get corpus_count) crashes=$crashes hangs=$hangs"
if ((crashes > 0 || hangs > 0)); then
  echo "findings in $findings/default/{crashes,hangs}; reproduce (uninstrumented build): dotnet build fuzz/Haul.Fuzz -c Release && dotnet fuzz/Haul.Fuzz/bin/Release/net10.0/Haul.Fuzz.dll $target FILE" >&2
fi
