#!/usr/bin/env bash
# CI's fuzz gate, runnable anywhere: `bash scripts/fuzz-smoke.sh` (FUZZ_SECONDS per target,
# default 60).
#
# 1. Always (stable is enough): rustfmt and clippy over fuzz/ (its own workspace), then its
#    regression harness (`cargo test --release` in fuzz/): every committed seed, every finding,
#    the script encoding, a fixed batch of pseudo-random and mutated inputs through both targets.
# 2. With a nightly toolchain: each target for FUZZ_SECONDS in the fast profile
#    (fuzz/scripts/run.sh) from a copy of the committed seeds. cargo-fuzz is installed first if
#    it is missing (FUZZ_INSTALL=0 skips instead). Without nightly it says so and skips.
# A crash fails the script and prints the failure, the artifact and how to replay it.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${FUZZ_SECONDS:-60}

echo "fuzz crate: rustfmt, clippy, regression harness (stable)"
cargo fmt --check
cargo clippy --quiet --all-targets -- -D warnings
cargo test --release --quiet

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  echo "SKIP fuzz runs: no nightly toolchain (cargo +nightly fuzz needs one; the regression harness above ran)"
  exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  if [ "${FUZZ_INSTALL:-1}" = 1 ]; then
    echo "installing cargo-fuzz"
    cargo install cargo-fuzz --version 0.13.2 --locked --quiet
  else
    echo "SKIP fuzz runs: cargo-fuzz is not installed (cargo install cargo-fuzz)"
    exit 0
  fi
fi

status=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for target in $(cargo +nightly fuzz list); do
  echo "fuzzing $target for ${seconds}s (fast profile: fuzz/scripts/run.sh $target)"
  mkdir -p "$work/$target"
  cp corpus/"$target"/seed-* "$work/$target/"
  log="$work/$target.log"
  if FUZZ_CORPUS="$work/$target" bash scripts/run.sh "$target" \
      -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$work/" >"$log" 2>&1; then
    grep -a -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|#[0-9]+ +DONE)' "$log" || tail -n 5 "$log"
  else
    status=1
    echo "FAIL: $target found a crash:"
    grep -a -B 2 -A 12 -E 'panicked at|ERROR: libFuzzer' "$log" | head -n 60
    for artifact in "$work"/crash-* "$work"/oom-* "$work"/timeout-*; do
      [ -e "$artifact" ] || continue
      mkdir -p artifacts/"$target"
      cp "$artifact" artifacts/"$target"/
      echo "saved fuzz/artifacts/$target/$(basename "$artifact") (base64: $(base64 -w0 "$artifact"))"
      echo "replay: (cd fuzz && cargo run --release --example show -- $target artifacts/$target/$(basename "$artifact"))"
    done
  fi
done
exit $status
