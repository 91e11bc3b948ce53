//! `cargo +nightly fuzz run protocol`: see `turnstile_fuzz::protocol`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use turnstile_fuzz::protocol::{run, Script};

fuzz_target!(|script: Script| {
    if let Err(failure) = run(&script) {
        panic!("{failure}\nscript:\n{}", turnstile_fuzz::protocol::describe(&script));
    }
});
