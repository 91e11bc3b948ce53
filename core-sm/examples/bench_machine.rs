//! Throughput of the bare machine on a simulator-like workload, with no simulator around it.
//!
//! ```text
//! cargo run -p core-sm --release --example bench_machine [-- --sessions N] [--reps R]
//!                                                          [--once] [--digest]
//! ```
//!
//! A seeded script drives a few clients and a scripted engine against a machine and records
//! every input: handshakes, thread starts, turns whose engine streams agent messages,
//! reasoning and command output, token usage, steers, interrupts, resumes and reads of
//! growing histories, listings and the odd bad request. The recorded inputs are then fed to
//! fresh machines (draining every output) and timed with `std::time`, best of `--reps`.
//!
//! `--once` replays once without timing (for `valgrind --tool=callgrind`); `--digest` prints a
//! hash of every output, which must not change when only speed does.

use std::collections::VecDeque;
use std::time::Instant;

use core_sm::engine::{EngineCommand, EngineEvent, ItemDelta, ItemKey};
use core_sm::wire::{CommandExecutionStatus, ItemBody, ThreadTokenUsage, TokenUsageBreakdown};
use core_sm::{ConnectionId, Input, Machine, MachineConfig, Output, ThreadId, Timestamp, TurnId};

/// One recorded run: the machine's seed and every input with its time.
struct Session {
    seed: u64,
    inputs: Vec<(Timestamp, Input)>,
}

struct Args {
    sessions: u64,
    reps: usize,
    once: bool,
    digest: bool,
}

fn parse_args() -> Args {
    let mut args = Args { sessions: 300, reps: 5, once: false, digest: false };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut number = || it.next().and_then(|v| v.parse::<u64>().ok()).expect("a number after the flag");
        match flag.as_str() {
            "--sessions" => args.sessions = number(),
            "--reps" => args.reps = number() as usize,
            "--once" => args.once = true,
            "--digest" => args.digest = true,
            other => panic!("unknown flag {other}"),
        }
    }
    args
}

fn main() {
    let args = parse_args();
    let sessions: Vec<Session> = (0..args.sessions).map(record).collect();
    let steps: usize = sessions.iter().map(|s| s.inputs.len()).sum();
    if args.digest {
        let (digest, bytes) = digest(&sessions);
        println!(
            "digest {digest:016x}: {steps} steps, {:.0} frame bytes per step",
            bytes as f64 / steps as f64
        );
        return;
    }
    if args.once {
        let outputs = replay(copy(&sessions));
        println!("{steps} steps, {outputs} outputs");
        return;
    }
    let mut best = f64::MAX;
    for _ in 0..args.reps.max(1) {
        let inputs = copy(&sessions);
        // The bench binary times the machine from outside; the machine itself never reads a clock.
        #[allow(clippy::disallowed_methods)]
        let started = Instant::now();
        let outputs = replay(inputs);
        let secs = started.elapsed().as_secs_f64();
        best = best.min(secs);
        println!("{steps} steps, {outputs} outputs in {secs:.3}s: {:.3}M steps/s", steps as f64 / secs / 1e6);
    }
    println!("best: {:.3}M steps/s", steps as f64 / best / 1e6);
}

/// The sessions' inputs, to be consumed by one replay.
fn copy(sessions: &[Session]) -> Vec<Session> {
    sessions.iter().map(|s| Session { seed: s.seed, inputs: s.inputs.clone() }).collect()
}

/// Feeds every session to a fresh machine, draining outputs; returns how many there were.
#[inline(never)]
fn replay(sessions: Vec<Session>) -> u64 {
    let mut outputs = 0;
    for session in sessions {
        let mut machine = Machine::new(MachineConfig::new(session.seed));
        for (now, input) in session.inputs {
            machine.handle(now, input);
            while let Some(output) = machine.poll_output() {
                outputs += 1;
                std::hint::black_box(output);
            }
        }
    }
    outputs
}

/// FNV-1a over the debug form of every output, and the bytes of the frames sent.
fn digest(sessions: &[Session]) -> (u64, usize) {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut bytes = 0;
    for session in sessions {
        let mut machine = Machine::new(MachineConfig::new(session.seed));
        for (now, input) in &session.inputs {
            machine.handle(*now, input.clone());
            while let Some(output) = machine.poll_output() {
                if let Output::Send { frame, .. } = &output {
                    bytes += frame.len();
                }
                for byte in format!("{output:?}\n").bytes() {
                    hash = (hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3);
                }
            }
        }
    }
    (hash, bytes)
}

/// The scripted clients and engine of one session.
struct Script {
    rng: fastrand::Rng,
    machine: Machine,
    now: Timestamp,
    inputs: Vec<(Timestamp, Input)>,
    /// Inputs waiting to be fed (engine events, client frames).
    queue: VecDeque<Input>,
    threads: Vec<ThreadId>,
    /// The turn each thread is running, if any.
    running: Vec<(ThreadId, TurnId)>,
    next_id: u64,
}

const CLIENTS: u64 = 3;

fn record(seed: u64) -> Session {
    let mut script = Script {
        rng: fastrand::Rng::with_seed(seed),
        machine: Machine::new(MachineConfig::new(seed)),
        now: Timestamp::from_millis(1_764_000_000_000),
        inputs: Vec::new(),
        queue: VecDeque::new(),
        threads: Vec::new(),
        running: Vec::new(),
        next_id: 1,
    };
    for c in 1..=CLIENTS {
        let conn = ConnectionId(c);
        script.feed(Input::ConnectionOpened { conn });
        let (experimental, opt_out) = match c {
            1 => (true, "[]"),
            2 => (false, r#"["item/agentMessage/delta"]"#),
            _ => (false, r#"["thread/tokenUsage/updated","item/commandExecution/outputDelta"]"#),
        };
        let params = format!(
            r#"{{"clientInfo":{{"name":"bench-{c}","version":"1.0"}},"capabilities":{{"experimentalApi":{experimental},"optOutNotificationMethods":{opt_out}}}}}"#
        );
        script.request(c, "initialize", &params);
    }
    for _ in 0..2 {
        script.request(1, "thread/start", "{}");
    }
    for _ in 0..12 {
        script.turn();
    }
    Session { seed, inputs: script.inputs }
}

impl Script {
    /// Feeds one input, then everything it causes, reacting to engine commands.
    fn feed(&mut self, input: Input) {
        self.queue.push_back(input);
        while let Some(input) = self.queue.pop_front() {
            self.now = self.now.plus_millis(1 + self.rng.u64(0..4));
            self.inputs.push((self.now, input.clone()));
            self.machine.handle(self.now, input);
            while let Some(output) = self.machine.poll_output() {
                if let Output::Engine { thread_id, command } = output {
                    self.engine(thread_id, command);
                }
            }
        }
    }

    fn request(&mut self, client: u64, method: &str, params: &str) {
        let id = self.next_id;
        self.next_id += 1;
        let text = format!(r#"{{"id":{id},"method":"{method}","params":{params}}}"#);
        self.feed(Input::Frame { conn: ConnectionId(client), text });
    }

    fn engine(&mut self, thread_id: ThreadId, command: EngineCommand) {
        match command {
            EngineCommand::OpenThread { .. } if !self.threads.contains(&thread_id) => {
                self.threads.push(thread_id)
            }
            EngineCommand::StartTurn { turn_id, .. } => {
                self.running.push((thread_id, turn_id));
                let event = EngineEvent::TurnStarted { turn_id };
                self.queue.push_back(Input::Engine { thread_id, event });
            }
            EngineCommand::Interrupt { turn_id } => {
                self.running.retain(|(_, t)| *t != turn_id);
                let event = EngineEvent::TurnAborted { turn_id };
                self.queue.push_back(Input::Engine { thread_id, event });
            }
            _ => {}
        }
    }

    fn text(&mut self, words: usize) -> String {
        const WORDS: &[&str] =
            &["the", "turn", "reads", "src/lib.rs", "and", "then", "runs", "cargo", "test", "\"ok\""];
        (0..words).map(|_| WORDS[self.rng.usize(..WORDS.len())]).collect::<Vec<_>>().join(" ")
    }

    /// One turn on a random thread: the engine streams items while clients come and go.
    fn turn(&mut self) {
        let thread_id = self.threads[self.rng.usize(..self.threads.len())];
        let task = self.text(12);
        let params =
            format!(r#"{{"threadId":"{thread_id}","input":[{{"type":"text","text":"{}"}}]}}"#, escape(&task));
        self.request(1, "turn/start", &params);
        let Some(&(_, turn_id)) = self.running.iter().find(|(t, _)| *t == thread_id) else { return };
        let ev = |event| Input::Engine { thread_id, event };
        for item in 0..4u64 {
            self.client_noise(thread_id, turn_id);
            if !self.running.iter().any(|(_, t)| *t == turn_id) {
                return;
            }
            let key = ItemKey(item);
            let (start, deltas, done) = match item % 3 {
                0 => {
                    let text = self.text(40);
                    let parts: Vec<ItemDelta> =
                        text.split_inclusive(' ').map(|w| ItemDelta::AgentMessage(w.to_owned())).collect();
                    let body = |text: String| ItemBody::AgentMessage { text, phase: None };
                    (body(String::new()), parts, body(text))
                }
                1 => {
                    let text = self.text(20);
                    let mut parts = vec![ItemDelta::ReasoningSummaryPartAdded { index: 0 }];
                    parts.extend(
                        text.split_inclusive(' ')
                            .map(|w| ItemDelta::ReasoningSummary { index: 0, text: w.to_owned() }),
                    );
                    let body = |summary: Vec<String>| ItemBody::Reasoning { summary, content: Vec::new() };
                    (body(Vec::new()), parts, body(vec![text]))
                }
                _ => {
                    let output = self.text(30);
                    let lines: Vec<ItemDelta> =
                        output.split_inclusive(' ').map(|w| ItemDelta::CommandOutput(w.to_owned())).collect();
                    let body = |status, output: Option<String>| ItemBody::CommandExecution {
                        command: "cargo test".into(),
                        cwd: "/tmp".into(),
                        command_actions: Vec::new(),
                        status,
                        source: Default::default(),
                        aggregated_output: output,
                        exit_code: (status == CommandExecutionStatus::Completed).then_some(0),
                        duration_ms: None,
                        process_id: None,
                    };
                    (
                        body(CommandExecutionStatus::InProgress, None),
                        lines,
                        body(CommandExecutionStatus::Completed, Some(output)),
                    )
                }
            };
            self.feed(ev(EngineEvent::ItemStarted { turn_id, key, body: start }));
            for delta in deltas {
                if self.rng.u32(0..3) == 0 {
                    self.client_noise(thread_id, turn_id);
                }
                self.feed(ev(EngineEvent::ItemDelta { turn_id, key, delta }));
            }
            self.feed(ev(EngineEvent::ItemCompleted { turn_id, key, body: done }));
        }
        let usage = TokenUsageBreakdown {
            total_tokens: 1200,
            input_tokens: 1000,
            output_tokens: 200,
            ..Default::default()
        };
        let usage = ThreadTokenUsage { total: usage, last: usage, model_context_window: Some(200_000) };
        self.feed(ev(EngineEvent::TokenUsage { turn_id, usage }));
        self.running.retain(|(_, t)| *t != turn_id);
        self.feed(ev(EngineEvent::TurnCompleted { turn_id }));
    }

    /// What other clients do while a turn runs: resume and read the thread, list, steer,
    /// interrupt, send a bad request.
    fn client_noise(&mut self, thread_id: ThreadId, turn_id: TurnId) {
        let client = 2 + self.rng.u64(0..CLIENTS - 1);
        match self.rng.u32(0..20) {
            0..=3 => self.request(client, "thread/resume", &format!(r#"{{"threadId":"{thread_id}"}}"#)),
            4 | 5 => self.request(
                client,
                "thread/read",
                &format!(r#"{{"threadId":"{thread_id}","includeTurns":true}}"#),
            ),
            6 => self.request(client, "thread/list", "{}"),
            7 => self.request(client, "thread/loaded/list", "{}"),
            8 => {
                let params = format!(
                    r#"{{"threadId":"{thread_id}","expectedTurnId":"{turn_id}","input":[{{"type":"text","text":"{}"}}]}}"#,
                    escape(&self.text(6))
                );
                self.request(1, "turn/steer", &params);
            }
            9 => self.request(client, "thread/unsubscribe", &format!(r#"{{"threadId":"{thread_id}"}}"#)),
            10 if self.rng.u32(0..4) == 0 => self.request(
                1,
                "turn/interrupt",
                &format!(r#"{{"threadId":"{thread_id}","turnId":"{turn_id}"}}"#),
            ),
            11 => self.request(client, "thread/frobnicate", "{}"),
            _ => {}
        }
    }
}

/// `text` as the inside of a JSON string.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}
