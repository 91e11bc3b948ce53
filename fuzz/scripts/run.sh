#!/usr/bin/env bash
# The fast fuzzing profile: `bash fuzz/scripts/run.sh <protocol|wire> [libFuzzer flags...]`.
#
# Same targets and checks as `cargo +nightly fuzz run <target>`, built to spend the time on the
# machine rather than on bookkeeping:
# - no sanitizer (`-s none`): core-sm forbids `unsafe`, ASan would cost 3-5x the executions;
# - coverage only from core-sm and the target (`focus-rustc.sh`), so libFuzzer does not collect
#   features from serde_json, the oracle or the schema checker, which say nothing about the
#   machine; no comparison tracing (the dictionary names every method, field and enum value);
# - the schema dictionary, and for `protocol` short scripts (`-max_len=128`: about ten actions,
#   which reach as many edges as long ones; pass a later `-max_len=` to override).
# Extra flags go to libFuzzer (e.g. `-max_total_time=60`). The corpus is `corpus/<target>`
# unless FUZZ_CORPUS names another directory. Needs nightly (or RUSTC_BOOTSTRAP=1 with stable:
# FUZZ_TOOLCHAIN=+stable) and cargo-fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: run.sh <protocol|wire> [libFuzzer flags...]}
shift
toolchain=${FUZZ_TOOLCHAIN:-+nightly}
corpus=${FUZZ_CORPUS:-corpus/$target}
mkdir -p "$corpus"
defaults=(-dict=dict/protocol.dict)
if [ "$target" = protocol ]; then
  defaults+=(-max_len=128)
fi
export RUSTC_WRAPPER="$PWD/scripts/focus-rustc.sh"
export FUZZ_FOCUS="${FUZZ_FOCUS:-core_sm,$target}"
exec cargo $toolchain fuzz run -s none --no-trace-compares --target-dir target/fast "$target" "$corpus" -- \
  "${defaults[@]}" "$@"
