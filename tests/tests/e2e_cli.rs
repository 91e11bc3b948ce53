//! The command line clients use to spawn Codex works for turnstile: `app-server`, `--listen`,
//! `-c key=value` before or after the subcommand, and clear startup errors.

use std::process::Command;

use serde_json::json;
use tests::server::{turnstile_binary, ScratchDir, Server};

#[test]
fn config_overrides_apply_before_and_after_app_server() {
    let home = ScratchDir::new("cli");
    let home_arg = home.path().to_string_lossy().into_owned();
    let args = [
        "-c",
        "model=\"gpt-5.1-codex\"",
        "app-server",
        "--listen",
        "stdio://",
        "--home",
        &home_arg,
        "--config",
        "sandbox_mode=read-only",
        "-c",
        "unheard_of_key=1",
        "--deterministic-clock",
        "1764000000000",
    ];
    let mut s = Server::spawn_raw(&args, home);
    let init = s.handshake("cli-test", json!(null));
    assert_eq!(init["result"]["codexHome"], home_arg);
    let started = s.request("thread/start", json!({}));
    assert_eq!(started["result"]["model"], "gpt-5.1-codex");
    assert_eq!(started["result"]["sandbox"], json!({"type": "readOnly", "networkAccess": false}));
    let stderr = s.stderr();
    let warnings = stderr.lines().filter(|l| l.contains("unheard_of_key")).count();
    assert_eq!(warnings, 1, "one warning line for the unknown key: {stderr}");
    s.assert_valid();
    assert!(s.close().success());
}

#[test]
fn unsupported_listen_urls_fail_at_startup_with_status_2() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let in_use = format!("ws://{}", taken.local_addr().unwrap());
    for (url, needle) in [
        (
            "ws://localhost:4500",
            "invalid websocket --listen URL `ws://localhost:4500`; expected `ws://IP:PORT`",
        ),
        (in_use.as_str(), "cannot listen on 127.0.0.1:"),
        ("http://x", "unsupported --listen URL"),
    ] {
        let out = Command::new(turnstile_binary()).args(["app-server", "--listen", url]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{url}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(needle), "{url}: {stderr}");
        assert!(out.stdout.is_empty(), "nothing on stdout: {url}");
    }
}

#[test]
fn websocket_auth_options_are_checked_at_startup() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--ws-auth", "capability-token"],
            "`--ws-token-file` is required when `--ws-auth capability-token` is set",
        ),
        (&["--ws-token-file", "/tmp/token"], "websocket auth flags require `--ws-auth capability-token`"),
        (
            &["--ws-auth", "capability-token", "--ws-token-file", "token"],
            "--ws-token-file must be an absolute path",
        ),
        (
            &["--ws-auth", "signed-bearer-token", "--ws-shared-secret-file", "/nonexistent/secret"],
            "failed to read websocket auth secret /nonexistent/secret",
        ),
    ];
    for (args, needle) in cases {
        let out = Command::new(turnstile_binary())
            .args(["app-server", "--listen", "ws://127.0.0.1:0"])
            .args(*args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

#[test]
fn help_documents_every_option() {
    let out = Command::new(turnstile_binary()).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for option in [
        "--listen",
        "--home",
        "--engine",
        "--scenario",
        "--seed",
        "--deterministic-clock",
        "--config",
        "--max-frame-bytes",
        "--ws-auth",
        "--ws-token-file",
        "--ws-shared-secret-file",
        "--ws-issuer",
        "--ws-audience",
        "--ws-max-clock-skew-seconds",
        "RUST_LOG",
        "LOG_FORMAT",
        "TURNSTILE_HOME",
    ] {
        assert!(help.contains(option), "--help does not mention {option}");
    }
}
