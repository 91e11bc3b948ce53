//! Measures the harness without libFuzzer: `cargo run --release --example bench -- <protocol|wire> DIR [ROUNDS]`.
//!
//! Runs every file in DIR (a corpus) ROUNDS times and prints executions per second, so the
//! harness cost can be profiled (`perf record` this binary) apart from libFuzzer's own.

use std::time::Instant;

use turnstile_fuzz::protocol::{self, Script};
use turnstile_fuzz::wire;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let target = args.first().map(String::as_str).unwrap_or("protocol");
    let dir = args.get(1).cloned().unwrap_or_else(|| format!("corpus/{target}"));
    let rounds: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(3);
    let mut inputs: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .expect("corpus dir")
        .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
        .collect();
    inputs.sort();
    let bytes: usize = inputs.iter().map(Vec::len).sum();
    let start = Instant::now();
    let mut failures = 0;
    for _ in 0..rounds {
        for data in &inputs {
            let r = match target {
                "wire" => wire::run(data),
                _ => protocol::run(&Script::decode(data)),
            };
            failures += usize::from(r.is_err());
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let n = inputs.len() * rounds;
    println!(
        "{target}: {n} runs of {} inputs (avg {} bytes) in {secs:.2}s: {:.0} execs/s, {failures} failures",
        inputs.len(),
        bytes / inputs.len().max(1),
        n as f64 / secs
    );
}
