//! Drives the real `turnstile` binary over stdio: spawn it, exchange frames, record a transcript
//! with minimal redactions for `insta`, and validate every frame against the schema.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::{json, Value};

use crate::transcript::Transcript;

/// How long to wait for a frame before declaring the server stuck. Generous: a slow CI machine
/// must not fail a test that is merely slow.
const RECV_TIMEOUT: Duration = Duration::from_secs(60);
/// Start of the deterministic clock used by every end-to-end test.
pub const EPOCH_MS: u64 = 1_764_000_000_000;
/// The working directory threads report (fixed so transcripts do not depend on the machine).
pub const CWD: &str = "/workspace";

/// Builds the binary once per test process (a no-op when it is fresh) and returns its path.
pub fn turnstile_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        // Test executables live in target/<profile>/deps; the binary in target/<profile>.
        let exe = std::env::current_exe().expect("current test executable");
        let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>");
        let release = profile_dir.file_name().is_some_and(|n| n == "release");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        build.args(["build", "--quiet", "-p", "io-adapters", "--bin", "turnstile"]);
        if release {
            build.arg("--release");
        }
        let status = build.status().expect("run cargo build for the turnstile binary");
        assert!(status.success(), "building turnstile failed");
        profile_dir.join(format!("turnstile{}", std::env::consts::EXE_SUFFIX))
    })
}

/// A scratch directory removed on drop.
#[derive(Debug)]
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    /// A fresh, empty directory under the system temp dir.
    pub fn new(tag: &str) -> Self {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("turnstile-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        Self(dir)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One running server and everything exchanged with it.
pub struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    frames: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    home: ScratchDir,
    log: Vec<String>,
    transcript: Transcript<'static>,
    next_id: i64,
}

impl Server {
    /// Spawns `turnstile app-server` with a deterministic clock, a fixed seed, a scratch home
    /// and `cwd`, plus `extra` arguments.
    pub fn spawn(extra: &[&str]) -> Server {
        let home = ScratchDir::new("home");
        let clock = EPOCH_MS.to_string();
        let home_arg = home.path().to_string_lossy().into_owned();
        let cwd = format!("cwd={CWD}");
        let mut args =
            vec!["app-server", "--listen", "stdio://", "--seed", "7", "--deterministic-clock", &clock];
        args.extend(["--home", &home_arg, "-c", &cwd]);
        args.extend_from_slice(extra);
        Self::spawn_raw(&args, home)
    }

    /// Spawns the binary with exactly these arguments.
    pub fn spawn_raw(args: &[&str], home: ScratchDir) -> Server {
        let mut child = Command::new(turnstile_binary())
            .args(args)
            .env_remove("TURNSTILE_HOME")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn turnstile");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, frames) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = collect_stderr(&mut child);
        Server {
            stdin: child.stdin.take(),
            child,
            frames,
            stderr,
            home,
            log: Vec::new(),
            transcript: Transcript::new(),
            next_id: 1,
        }
    }

    /// The server's home directory.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// What the server logged so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    fn write_line(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(text.as_bytes()).and_then(|()| stdin.write_all(b"\n")).expect("write to turnstile");
        stdin.flush().expect("flush");
    }

    /// Sends a well-formed client frame (validated against the schema, recorded).
    pub fn send(&mut self, frame: Value) {
        let text = frame.to_string();
        self.transcript.client(&text);
        self.log.push(format!("-> {text}"));
        self.write_line(&text);
    }

    /// Sends any text as one line, deliberately unchecked (bad input tests); `label` replaces
    /// the text in the transcript when it is huge.
    pub fn send_raw(&mut self, text: &str, label: Option<&str>) {
        self.transcript.client_unchecked(text);
        self.log.push(format!("-> {}", label.unwrap_or(text)));
        self.write_line(text);
    }

    /// Sends a request with the next integer id and returns that id.
    pub fn send_request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"id": id, "method": method, "params": params}));
        id
    }

    /// The next frame from the server (recorded and validated).
    pub fn recv(&mut self) -> Value {
        match self.frames.recv_timeout(RECV_TIMEOUT) {
            Ok(line) => {
                self.transcript.server(&line);
                self.log.push(format!("<- {line}"));
                serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("server wrote invalid JSON ({e}): {line}"))
            }
            Err(RecvTimeoutError::Timeout) => {
                panic!("no frame from turnstile within {RECV_TIMEOUT:?}; stderr:\n{}", self.stderr())
            }
            Err(RecvTimeoutError::Disconnected) => {
                panic!("turnstile closed stdout; stderr:\n{}", self.stderr())
            }
        }
    }

    /// Receives frames up to and including the first that matches `done`.
    pub fn recv_until(&mut self, done: impl Fn(&Value) -> bool) -> Vec<Value> {
        collect_until(|| self.recv(), done)
    }

    /// Sends a request and receives up to its reply; returns the reply.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.send_request(method, params);
        self.recv_until(|f| is_reply_to(f, id)).pop().expect("a reply")
    }

    /// Receives until the notification `method` arrives.
    pub fn recv_until_method(&mut self, method: &str) -> Vec<Value> {
        self.recv_until(|f| f["method"] == method)
    }

    /// Asserts nothing more arrives within `wait`.
    pub fn assert_silent(&mut self, wait: Duration) {
        if let Ok(line) = self.frames.recv_timeout(wait) {
            panic!("unexpected frame: {line}");
        }
    }

    /// The `initialize` + `initialized` handshake.
    pub fn handshake(&mut self, client: &str, capabilities: Value) -> Value {
        let reply = self.request(
            "initialize",
            json!({"clientInfo": {"name": client, "version": "1.0.0"}, "capabilities": capabilities}),
        );
        assert!(reply.get("result").is_some(), "initialize failed: {reply}");
        self.send(json!({"method": "initialized"}));
        reply
    }

    /// The transcript, one frame per line, with the machine-dependent parts redacted.
    pub fn snapshot(&self) -> String {
        let home = self.home.path().to_string_lossy().into_owned();
        let mut out = String::new();
        for line in &self.log {
            let line = line.replace(&home, "[HOME]");
            out.push_str(&redact_user_agent(&line));
            out.push('\n');
        }
        out
    }

    /// Every frame so far, validated; panics listing schema violations.
    pub fn assert_valid(&self) {
        self.transcript.assert_valid();
    }

    /// Closes stdin and waits for the process; returns its exit status.
    pub fn close(mut self) -> ExitStatus {
        drop(self.stdin.take());
        let status = self.child.wait().expect("wait for turnstile");
        // Frames written before exit are still recorded and validated.
        while let Ok(line) = self.frames.recv_timeout(Duration::from_millis(200)) {
            self.transcript.server(&line);
        }
        self.transcript.assert_valid();
        status
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Frames from `recv` up to and including the first that matches `done`.
pub(crate) fn collect_until(mut recv: impl FnMut() -> Value, done: impl Fn(&Value) -> bool) -> Vec<Value> {
    let mut got = Vec::new();
    loop {
        let frame = recv();
        let stop = done(&frame);
        got.push(frame);
        if stop {
            return got;
        }
    }
}

/// Collects the child's stderr, as it comes, into the returned buffer.
pub(crate) fn collect_stderr(child: &mut Child) -> Arc<Mutex<String>> {
    let stderr = Arc::new(Mutex::new(String::new()));
    let mut err = child.stderr.take().expect("stderr");
    let sink = Arc::clone(&stderr);
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = err.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    stderr
}

/// Whether `frame` is the reply (result or error) to request `id`.
pub fn is_reply_to(frame: &Value, id: i64) -> bool {
    frame.get("method").is_none() && frame.get("id") == Some(&json!(id))
}

/// `userAgent` carries the OS, architecture and terminal: keep the parts the tests assert on.
pub(crate) fn redact_user_agent(line: &str) -> String {
    let Some(start) = line.find("\"userAgent\":\"") else { return line.to_owned() };
    let value_start = start + "\"userAgent\":\"".len();
    let Some(len) = line[value_start..].find('"') else { return line.to_owned() };
    let ua = &line[value_start..value_start + len];
    let product = ua.split(' ').next().unwrap_or("");
    let client = ua.rfind(" (").map(|i| &ua[i + 1..]).unwrap_or("");
    format!("{}{product} [PLATFORM] {client}{}", &line[..value_start], &line[value_start + len..])
}
