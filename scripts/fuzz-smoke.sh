#!/usr/bin/env bash
# Runs every cargo-fuzz target for a short bounded time when a nightly toolchain and cargo-fuzz
# are available; says clearly when it skips.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
if [ ! -f fuzz/Cargo.toml ]; then
  echo "SKIP fuzz: no fuzz/ crate in this checkout"
  exit 0
fi
if ! rustup toolchain list 2>/dev/null | grep -q nightly; then
  echo "SKIP fuzz: no nightly toolchain (cargo +nightly fuzz needs one)"
  exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "SKIP fuzz: cargo-fuzz is not installed (cargo install cargo-fuzz)"
  exit 0
fi
targets=$(cd fuzz && cargo +nightly fuzz list 2>/dev/null || true)
if [ -z "$targets" ]; then
  echo "SKIP fuzz: no fuzz targets"
  exit 0
fi
for target in $targets; do
  echo "fuzzing $target for ${seconds}s"
  (cd fuzz && cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -print_final_stats=1 2>&1 | tail -n 12)
done
