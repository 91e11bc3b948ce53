#!/usr/bin/env bash
# RUSTC_WRAPPER that keeps libFuzzer's coverage instrumentation only on the crates under test.
#
# cargo-fuzz instruments every crate (RUSTFLAGS). With this wrapper, crates not named in
# FUZZ_FOCUS (comma-separated crate names; default: core_sm and the two targets) are compiled
# without the sancov pass and its -sanitizer-coverage-* LLVM options, so libFuzzer spends no
# time collecting features from serde_json, the harness, the oracle or the schema checker,
# whose coverage says nothing about the machine. Checks are unchanged. `run.sh` uses it.
set -euo pipefail
rustc="$1"
shift
focus=",${FUZZ_FOCUS:-core_sm,protocol,wire},"
crate=""
prev=""
for a in "$@"; do
  if [ "$prev" = "--crate-name" ]; then crate="$a"; break; fi
  prev="$a"
done
if [ -z "$crate" ] || [[ "$focus" == *",$crate,"* ]]; then
  exec "$rustc" "$@"
fi
args=()
for a in "$@"; do
  case "$a" in
    -Cpasses=sancov-module | -Cllvm-args=-sanitizer-coverage-*) ;;
    *) args+=("$a") ;;
  esac
done
exec "$rustc" "${args[@]}"
