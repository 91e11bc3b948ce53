//! Stable (no libFuzzer, no nightly) regression harness: replays the committed seeds and any
//! crash artifacts through both targets, checks the script encoding round-trips, and runs a
//! fixed batch of pseudo-random inputs. `cargo test --manifest-path fuzz/Cargo.toml`.
//!
//! `FUZZ_REPLAY=path[,path...]` replays just those files (a crash from `artifacts/`).
//! `FUZZ_RANDOM=N` changes the number of pseudo-random inputs per target (default 300).

use std::path::{Path, PathBuf};

use turnstile_fuzz::protocol::{self, Script};
use turnstile_fuzz::wire;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files(sub: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir().join(sub))
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

fn target_of(path: &Path) -> &'static str {
    if path.components().any(|c| c.as_os_str() == "wire") {
        "wire"
    } else {
        "protocol"
    }
}

fn replay(path: &Path) -> Result<(), String> {
    let data = std::fs::read(path).map_err(|e| e.to_string())?;
    let r = match target_of(path) {
        "wire" => wire::run(&data),
        _ => protocol::run(&Script::decode(&data)),
    };
    r.map_err(|f| format!("{}: {f}", path.display()))
}

/// xorshift64*: deterministic bytes without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let n = (self.next() as usize) % max;
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn random_count() -> usize {
    std::env::var("FUZZ_RANDOM").ok().and_then(|s| s.parse().ok()).unwrap_or(300)
}

#[test]
fn only_the_named_files() {
    let Ok(list) = std::env::var("FUZZ_REPLAY") else {
        return;
    };
    let failures: Vec<String> =
        list.split(',').filter(|s| !s.is_empty()).filter_map(|p| replay(Path::new(p)).err()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn seeds_and_artifacts_pass() {
    if std::env::var("FUZZ_REPLAY").is_ok() {
        return;
    }
    let mut all = Vec::new();
    for sub in [
        "corpus/protocol",
        "corpus/wire",
        "findings/protocol",
        "findings/wire",
        "artifacts/protocol",
        "artifacts/wire",
    ] {
        all.extend(files(sub));
    }
    let failures: Vec<String> = all.iter().filter_map(|p| replay(p).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} inputs fail:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n\n")
    );
}

#[test]
fn script_encoding_round_trips() {
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    for _ in 0..2000 {
        let data = rng.bytes(600);
        let s = Script::decode(&data);
        let again = Script::decode(&s.encode());
        assert_eq!(s, again, "bytes {data:?}");
    }
}

#[test]
fn prelude_is_schema_valid() {
    wire::check_prelude_once().unwrap();
}

#[test]
fn random_protocol_inputs() {
    let mut rng = Rng(0xfeed_beef);
    for i in 0..random_count() {
        let data = rng.bytes(800);
        if let Err(f) = protocol::run(&Script::decode(&data)) {
            panic!(
                "random input {i} ({} bytes) fails: {f}\n{}",
                data.len(),
                protocol::describe(&Script::decode(&data))
            );
        }
    }
}

#[test]
fn random_wire_inputs() {
    let mut rng = Rng(0xdead_0001);
    let seeds = files("corpus/wire");
    for i in 0..random_count() {
        // Mutate a seed: flip, insert or truncate a few bytes.
        let mut data = match seeds.get(i % seeds.len().max(1)) {
            Some(p) => std::fs::read(p).unwrap(),
            None => rng.bytes(200),
        };
        for _ in 0..(rng.next() % 4) {
            if data.is_empty() {
                break;
            }
            let at = (rng.next() as usize) % data.len();
            match rng.next() % 3 {
                0 => data[at] = rng.next() as u8,
                1 => data.insert(at, rng.next() as u8),
                _ => data.truncate(at),
            }
        }
        if let Err(f) = wire::run(&data) {
            panic!("mutated wire input {i} fails: {f}\ninput: {:?}", String::from_utf8_lossy(&data));
        }
    }
}
