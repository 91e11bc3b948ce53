//! Drives the real `turnstile` binary over websockets: spawn it on an ephemeral loopback port
//! (learned from the `listening on:` line it prints, as Codex clients do), open connections,
//! and record one validated transcript per connection.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::{Message, WebSocket};

use crate::server::{
    collect_stderr, collect_until, is_reply_to, redact_user_agent, turnstile_binary, ScratchDir, CWD,
    EPOCH_MS,
};
use crate::transcript::Transcript;

/// How long to wait for the server (startup, a frame). Generous for slow CI machines.
const WAIT: Duration = Duration::from_secs(60);

/// A running `turnstile app-server --listen ws://127.0.0.1:0`.
pub struct WsServer {
    child: Child,
    stderr: Arc<Mutex<String>>,
    addr: SocketAddr,
    home: ScratchDir,
}

impl WsServer {
    /// Spawns the server with a deterministic clock, a fixed seed, a scratch home and `cwd`,
    /// and waits for it to say where it listens.
    pub fn spawn() -> WsServer {
        let home = ScratchDir::new("ws-home");
        let clock = EPOCH_MS.to_string();
        let home_arg = home.path().to_string_lossy().into_owned();
        let cwd = format!("cwd={CWD}");
        let mut child = Command::new(turnstile_binary())
            .args([
                "app-server",
                "--listen",
                "ws://127.0.0.1:0",
                "--seed",
                "7",
                "--deterministic-clock",
                &clock,
            ])
            .args(["--home", &home_arg, "-c", &cwd])
            .env_remove("TURNSTILE_HOME")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn turnstile");
        let stderr = collect_stderr(&mut child);
        let started = Instant::now();
        let addr = loop {
            let text = stderr.lock().unwrap().clone();
            if let Some(addr) = listening_address(&text) {
                break addr;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("turnstile exited ({status}) before listening; stderr:\n{text}");
            }
            assert!(started.elapsed() < WAIT, "turnstile did not say where it listens; stderr:\n{text}");
            std::thread::sleep(Duration::from_millis(20));
        };
        WsServer { child, stderr, addr, home }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What the server logged so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Opens a websocket connection.
    pub fn connect(&self, name: &str) -> WsClient {
        let stream = TcpStream::connect(self.addr).expect("connect");
        stream.set_read_timeout(Some(WAIT)).expect("read timeout");
        let (socket, _) =
            tungstenite::client(format!("ws://{}/", self.addr), stream).expect("websocket handshake");
        WsClient {
            name: name.to_owned(),
            socket,
            home: self.home.path().to_string_lossy().into_owned(),
            log: Vec::new(),
            transcript: Transcript::new(),
            next_id: 1,
        }
    }

    /// Sends one raw HTTP request on a fresh connection and returns the whole response.
    pub fn http(&self, request: &str) -> String {
        let mut stream = TcpStream::connect(self.addr).expect("connect");
        stream.set_read_timeout(Some(WAIT)).expect("read timeout");
        stream.write_all(request.as_bytes()).expect("write request");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read response");
        response
    }

    /// Sends SIGTERM (the server shuts down cleanly) and returns the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().expect("run kill");
        assert!(killed.success(), "kill -TERM {pid}");
        self.child.wait().expect("wait for turnstile")
    }
}

impl Drop for WsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The address in a `  listening on: ws://IP:PORT` line of `stderr`.
pub fn listening_address(stderr: &str) -> Option<SocketAddr> {
    stderr.lines().find_map(|line| line.trim().strip_prefix("listening on: ws://")?.parse().ok())
}

/// One websocket connection with its own recorded, validated transcript.
pub struct WsClient {
    name: String,
    socket: WebSocket<TcpStream>,
    home: String,
    log: Vec<String>,
    transcript: Transcript<'static>,
    next_id: i64,
}

impl WsClient {
    /// Sends a well-formed client frame (validated against the schema, recorded).
    pub fn send(&mut self, frame: Value) {
        let text = frame.to_string();
        self.transcript.client(&text);
        self.log.push(format!("-> {text}"));
        self.socket.send(Message::text(text)).expect("send");
    }

    /// Sends a websocket message that is not a text frame (binary, ping), unrecorded.
    pub fn send_message(&mut self, message: Message) {
        self.socket.send(message).expect("send");
    }

    /// Sends a request with the next integer id and returns that id.
    pub fn send_request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"id": id, "method": method, "params": params}));
        id
    }

    /// The next websocket message, control messages included.
    pub fn recv_message(&mut self) -> Message {
        match self.socket.read() {
            Ok(message) => message,
            Err(e) => panic!("{}: no message from turnstile: {e}", self.name),
        }
    }

    /// The next JSON frame (recorded and validated); pongs are skipped.
    pub fn recv(&mut self) -> Value {
        loop {
            match self.recv_message() {
                Message::Text(text) => {
                    self.transcript.server(text.as_str());
                    self.log.push(format!("<- {}", text.as_str()));
                    return serde_json::from_str(&text)
                        .unwrap_or_else(|e| panic!("server wrote invalid JSON ({e}): {}", text.as_str()));
                }
                Message::Pong(_) | Message::Ping(_) => continue,
                other => panic!("{}: unexpected {other:?}", self.name),
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

    /// The `initialize` + `initialized` handshake.
    pub fn handshake(&mut self) -> Value {
        let name = self.name.clone();
        let reply = self.request("initialize", json!({"clientInfo": {"name": name, "version": "1.0.0"}}));
        assert!(reply.get("result").is_some(), "initialize failed: {reply}");
        self.send(json!({"method": "initialized"}));
        reply
    }

    /// This connection's transcript, one frame per line, with machine-dependent parts redacted.
    pub fn snapshot(&self) -> String {
        let mut out = String::new();
        for line in &self.log {
            out.push_str(&redact_user_agent(&line.replace(&self.home, "[HOME]")));
            out.push('\n');
        }
        out
    }

    /// Every frame so far, validated; panics listing schema violations.
    pub fn assert_valid(&self) {
        self.transcript.assert_valid();
    }
}
