//! Replays one input with a readable trace: `cargo run --example show -- <protocol|wire> FILE`.
//!
//! Prints the decoded actions (protocol), every input and output in order, and the failure if
//! any. Use it to triage a crash from `artifacts/`.

use turnstile_fuzz::protocol::{self, Script};
use turnstile_fuzz::wire;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [target, file] = &args[..] else {
        eprintln!("usage: show <protocol|wire> FILE");
        std::process::exit(2);
    };
    let data = std::fs::read(file).expect("readable input");
    match target.as_str() {
        "protocol" => {
            let script = Script::decode(&data);
            println!("actions:\n{}", protocol::describe(&script));
            let (d, r) = protocol::run_traced(&script);
            for line in d.trace.unwrap_or_default() {
                println!("{line}");
            }
            match r {
                Ok(()) => println!("OK"),
                Err(f) => println!("FAILURE: {f}"),
            }
        }
        "wire" => {
            println!("frame: {:?}", String::from_utf8_lossy(&data));
            let (d, r) = wire::run_traced(&data);
            for line in d.map(|d| d.trace.unwrap_or_default()).unwrap_or_default() {
                println!("{line}");
            }
            match r {
                Ok(()) => println!("OK"),
                Err(f) => println!("FAILURE: {f}"),
            }
        }
        other => {
            eprintln!("unknown target {other}");
            std::process::exit(2);
        }
    }
}
