//! The `turnstile` binary: see [`io_adapters::run`].
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    io_adapters::run()
}
