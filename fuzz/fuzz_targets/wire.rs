//! `cargo +nightly fuzz run wire`: see `turnstile_fuzz::wire`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(failure) = turnstile_fuzz::wire::run(data) {
        panic!("{failure}");
    }
});
