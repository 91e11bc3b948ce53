//! Runtime tests: the real machine, engine and store over in-memory pipes.

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, DuplexStream, Lines};
use tokio::task::JoinHandle;

use super::*;
use crate::test_support::{settings, temp_home};

/// A client on the other end of in-memory pipes.
struct Client {
    to_server: Option<DuplexStream>,
    from_server: Lines<tokio::io::BufReader<DuplexStream>>,
    server: JoinHandle<io::Result<()>>,
    transcript: Vec<String>,
}

impl Client {
    fn start(settings: Settings) -> Self {
        Self::start_until(settings, std::future::pending())
    }

    fn start_until(settings: Settings, shutdown: impl Future<Output = ()> + Send + 'static) -> Self {
        let (to_server, server_in) = tokio::io::duplex(1 << 16);
        let (server_out, from_server) = tokio::io::duplex(1 << 16);
        let server = tokio::spawn(serve_until(server_in, server_out, settings, shutdown));
        Self {
            to_server: Some(to_server),
            from_server: tokio::io::BufReader::new(from_server).lines(),
            server,
            transcript: Vec::new(),
        }
    }

    async fn send(&mut self, frame: Value) {
        self.send_raw(&frame.to_string()).await;
    }

    async fn send_raw(&mut self, line: &str) {
        let pipe = self.to_server.as_mut().expect("input open");
        pipe.write_all(line.as_bytes()).await.unwrap();
        pipe.write_all(b"\n").await.unwrap();
    }

    async fn next(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(10), self.from_server.next_line())
            .await
            .expect("server went quiet")
            .unwrap()
            .expect("server output ended");
        self.transcript.push(line.clone());
        serde_json::from_str(&line).unwrap()
    }

    /// Reads frames until one satisfies `done`; returns them all.
    async fn until(&mut self, done: impl Fn(&Value) -> bool) -> Vec<Value> {
        let mut frames = Vec::new();
        loop {
            let frame = self.next().await;
            let stop = done(&frame);
            frames.push(frame);
            if stop {
                return frames;
            }
        }
    }

    async fn response(&mut self, id: i64) -> Value {
        self.until(|f| f["id"] == id && f.get("method").is_none()).await.pop().unwrap()
    }

    /// Closes the input and collects what is left of the output; the server must exit cleanly.
    async fn finish(mut self) -> Vec<String> {
        drop(self.to_server.take());
        while let Some(line) = self.from_server.next_line().await.unwrap() {
            self.transcript.push(line);
        }
        self.server.await.unwrap().unwrap();
        self.transcript
    }
}

fn initialize() -> Value {
    json!({"id": 1, "method": "initialize", "params": {"clientInfo": {"name": "t", "version": "1"}}})
}

fn turn_start(id: i64, thread_id: &str, text: &str) -> Value {
    json!({"id": id, "method": "turn/start", "params": {
        "threadId": thread_id, "input": [{"type": "text", "text": text}]}})
}

async fn start_thread(client: &mut Client) -> String {
    client.send(initialize()).await;
    client.response(1).await;
    client.send(json!({"id": 2, "method": "thread/start", "params": {}})).await;
    let response = client.response(2).await;
    response["result"]["thread"]["id"].as_str().unwrap().to_owned()
}

fn methods(frames: &[Value]) -> Vec<String> {
    frames
        .iter()
        .map(|f| match f.get("method") {
            Some(m) => m.as_str().unwrap().to_owned(),
            None => format!("response {}", f["id"]),
        })
        .collect()
}

#[tokio::test]
async fn initialize_and_thread_start_then_eof() {
    let home = temp_home();
    let mut client = Client::start(settings(&home));
    client.send(initialize()).await;
    client.send(json!({"id": 2, "method": "thread/start", "params": {}})).await;
    let transcript = client.finish().await;
    let first: Value = serde_json::from_str(&transcript[0]).unwrap();
    assert_eq!(first["id"], 1);
    assert_eq!(first["result"]["codexHome"], home.display().to_string());
    assert!(transcript.iter().any(|l| l.contains(r#""id":2,"result""#) && l.contains(r#""cwd":"/w""#)));
}

#[tokio::test]
async fn a_turn_streams_and_persists() {
    let home = temp_home();
    let mut client = Client::start(settings(&home));
    let thread_id = start_thread(&mut client).await;
    client.send(turn_start(3, &thread_id, "hello there")).await;
    let frames = client.until(|f| f["method"] == "turn/completed").await;
    let seen = methods(&frames);
    let expected = [
        "response 3",
        "thread/status/changed",
        "turn/started",
        "item/started",
        "item/completed",
        "item/started",
        "item/agentMessage/delta",
        "item/completed",
        "thread/tokenUsage/updated",
        "thread/status/changed",
        "turn/completed",
    ];
    let mut want = expected.iter();
    let mut next = want.next();
    for m in &seen {
        if Some(&m.as_str()) == next {
            next = want.next();
        }
    }
    assert_eq!(next, None, "missing {next:?} in {seen:?}");
    let answer = frames
        .iter()
        .find(|f| f["method"] == "item/completed" && f["params"]["item"]["type"] == "agentMessage")
        .unwrap();
    assert_eq!(answer["params"]["item"]["text"], "You said: hello there");
    client.finish().await;
    let rollout = home.join("sessions").join(format!("{thread_id}.jsonl"));
    let text = std::fs::read_to_string(&rollout).unwrap();
    assert!(text.lines().next().unwrap().contains("session_meta"));
    assert!(text.lines().last().unwrap().contains("turn_ended"));
    std::fs::remove_dir_all(&home).unwrap();
}

#[tokio::test]
async fn interrupt_stops_a_sleeping_turn() {
    let home = temp_home();
    let mut client = Client::start(settings(&home));
    let thread_id = start_thread(&mut client).await;
    client.send(turn_start(3, &thread_id, "/sleep 60000\n/message late")).await;
    let frames = client.until(|f| f["method"] == "turn/started").await;
    let turn_id = frames.last().unwrap()["params"]["turn"]["id"].clone();
    client
        .send(json!({"id": 4, "method": "turn/interrupt",
            "params": {"threadId": thread_id, "turnId": turn_id}}))
        .await;
    let frames = client.until(|f| f["method"] == "turn/completed").await;
    assert!(frames.iter().any(|f| f["id"] == 4 && f["result"] == json!({})));
    assert_eq!(frames.last().unwrap()["params"]["turn"]["status"], "interrupted");
    client.finish().await;
    std::fs::remove_dir_all(&home).unwrap();
}

#[tokio::test]
async fn bad_input_does_not_stop_the_server() {
    let home = temp_home();
    let mut client = Client::start(settings(&home));
    client.send_raw("{not json").await;
    client.send_raw("[1,2]").await;
    client.to_server.as_mut().unwrap().write_all(b"\xff\xfe\n").await.unwrap();
    client.send(initialize()).await;
    let response = client.response(1).await;
    assert!(response["result"]["userAgent"].is_string());
    client.finish().await;
    std::fs::remove_dir_all(&home).unwrap();
}

#[tokio::test]
async fn a_stored_thread_resumes_in_a_new_server() {
    let home = temp_home();
    let mut client = Client::start(settings(&home));
    let thread_id = start_thread(&mut client).await;
    client.send(turn_start(3, &thread_id, "remember me")).await;
    client.until(|f| f["method"] == "turn/completed").await;
    client.finish().await;

    let mut client = Client::start(settings(&home));
    client.send(initialize()).await;
    client.response(1).await;
    client.send(json!({"id": 2, "method": "thread/resume", "params": {"threadId": thread_id}})).await;
    let response = client.response(2).await;
    let turns = &response["result"]["thread"]["turns"];
    assert_eq!(turns.as_array().map(Vec::len), Some(1), "{response}");
    client.finish().await;
    std::fs::remove_dir_all(&home).unwrap();
}

#[tokio::test]
async fn deterministic_clock_gives_identical_transcripts() {
    async fn session(home: &Path) -> Vec<String> {
        let mut client = Client::start(settings(home));
        let thread_id = start_thread(&mut client).await;
        client.send(turn_start(3, &thread_id, "/reasoning hm\n/exec ls --output a\n/message done")).await;
        client.until(|f| f["method"] == "turn/completed").await;
        client.finish().await
    }
    let (a, b) = (temp_home(), temp_home());
    let first = session(&a).await;
    let second = session(&b).await;
    // The home directory is part of the initialize response; compare everything else.
    let strip = |lines: Vec<String>, home: &Path| -> Vec<String> {
        let home = home.display().to_string();
        lines.into_iter().map(|l| l.replace(&home, "<home>")).collect()
    };
    assert_eq!(strip(first, &a), strip(second, &b));
    std::fs::remove_dir_all(&a).unwrap();
    std::fs::remove_dir_all(&b).unwrap();
}

/// Answers the server request `request` with `result`.
async fn answer(client: &mut Client, request: &Value, result: Value) {
    client.send(json!({"id": request["id"], "result": result})).await;
}

fn is_request(frame: &Value, method: &str) -> bool {
    frame["method"] == method && frame.get("id").is_some()
}

fn completed_item<'a>(frames: &'a [Value], kind: &str) -> &'a Value {
    let frame = frames
        .iter()
        .find(|f| f["method"] == "item/completed" && f["params"]["item"]["type"] == kind)
        .unwrap_or_else(|| panic!("no completed {kind} in {frames:?}"));
    &frame["params"]["item"]
}

#[tokio::test]
async fn approvals_and_tool_calls_round_trip_through_the_machine() {
    let home = temp_home();
    let mut client = Client::start(settings(&home));
    let thread_id = start_thread(&mut client).await;
    let script =
        "/approve-exec make --output built\\n\n/approve-exec rm -rf /\n/tool lookup {\"q\": 1}\n/message end";
    client.send(turn_start(3, &thread_id, script)).await;

    let frames = client.until(|f| is_request(f, "item/commandExecution/requestApproval")).await;
    let request = frames.last().unwrap().clone();
    assert_eq!(request["params"]["command"], "make");
    answer(&mut client, &request, json!({"decision": "accept"})).await;
    let frames = client.until(|f| is_request(f, "item/commandExecution/requestApproval")).await;
    let item = completed_item(&frames, "commandExecution");
    assert_eq!((item["status"].as_str(), item["exitCode"].as_i64()), (Some("completed"), Some(0)));
    assert_eq!(item["aggregatedOutput"], "built\n");
    assert!(frames.iter().any(|f| f["method"] == "item/commandExecution/outputDelta"));

    let request = frames.last().unwrap().clone();
    assert_eq!(request["params"]["command"], "rm -rf /");
    answer(&mut client, &request, json!({"decision": "decline"})).await;
    let frames = client.until(|f| is_request(f, "item/tool/call")).await;
    assert_eq!(completed_item(&frames, "commandExecution")["status"], "declined");

    let request = frames.last().unwrap().clone();
    assert_eq!(request["params"]["arguments"], json!({"q": 1}));
    answer(
        &mut client,
        &request,
        json!({"contentItems": [{"type": "inputText", "text": "42"}], "success": true}),
    )
    .await;
    let frames = client.until(|f| f["method"] == "turn/completed").await;
    assert_eq!(completed_item(&frames, "dynamicToolCall")["status"], "completed");
    let texts: Vec<&str> = frames
        .iter()
        .filter(|f| f["method"] == "item/completed" && f["params"]["item"]["type"] == "agentMessage")
        .map(|f| f["params"]["item"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["Tool lookup succeeded: 42", "end"]);
    assert_eq!(frames.last().unwrap()["params"]["turn"]["status"], "completed");
    client.finish().await;
    std::fs::remove_dir_all(&home).unwrap();
}

#[tokio::test]
async fn a_cancelled_approval_interrupts_the_turn() {
    let home = temp_home();
    let mut client = Client::start(settings(&home));
    let thread_id = start_thread(&mut client).await;
    client.send(turn_start(3, &thread_id, "/approve-patch a.txt add\n/message never")).await;
    let frames = client.until(|f| is_request(f, "item/fileChange/requestApproval")).await;
    answer(&mut client, frames.last().unwrap(), json!({"decision": "cancel"})).await;
    let frames = client.until(|f| f["method"] == "turn/completed").await;
    assert_eq!(completed_item(&frames, "fileChange")["status"], "declined");
    assert!(!frames.iter().any(|f| f["params"]["item"]["type"] == "agentMessage"));
    assert_eq!(frames.last().unwrap()["params"]["turn"]["status"], "interrupted");
    client.finish().await;
    std::fs::remove_dir_all(&home).unwrap();
}

#[tokio::test]
async fn shutdown_closes_threads_flushes_and_returns_ok() {
    let home = temp_home();
    let (trigger, signalled) = tokio::sync::oneshot::channel::<()>();
    let mut client = Client::start_until(settings(&home), async {
        let _ = signalled.await;
    });
    let thread_id = start_thread(&mut client).await;
    client.send(turn_start(3, &thread_id, "/approve-exec make")).await;
    client.until(|f| is_request(f, "item/commandExecution/requestApproval")).await;
    trigger.send(()).unwrap();
    // The output ends and the server returns Ok even though input is still open.
    let rest = tokio::time::timeout(Duration::from_secs(5), async {
        let mut rest = Vec::new();
        while let Some(line) = client.from_server.next_line().await.unwrap() {
            rest.push(line);
        }
        rest
    })
    .await
    .expect("output did not end");
    assert!(rest.is_empty(), "{rest:?}");
    tokio::time::timeout(Duration::from_secs(5), &mut client.server).await.unwrap().unwrap().unwrap();
    std::fs::remove_dir_all(&home).unwrap();
}

/// A machine task with the real engine and store, driven by hand.
fn machine_task(home: &Path, lifetime: Lifetime) -> MachineTask {
    let settings = settings(home);
    let (events_tx, _events_rx) = mpsc::channel(EVENTS_CAPACITY);
    let (storage_tx, _storage_rx) = mpsc::unbounded_channel();
    let store = StoreHandle::spawn(RolloutStore::new(home), storage_tx).unwrap();
    let engine = Box::new(ScriptedEngine::new(settings.scenario, events_tx));
    MachineTask::new(Machine::new(settings.machine), settings.clock, engine, store, lifetime)
}

#[tokio::test]
async fn a_disconnecting_peer_whose_queue_is_full_is_dropped_and_reported_closed() {
    let home = temp_home();
    let mut task = machine_task(&home, Lifetime::UntilShutdown);
    let conn = ConnectionId(1);
    let (frames_tx, mut frames_rx) = mpsc::channel(1);
    let (close_tx, close_rx) = tokio::sync::oneshot::channel();
    task.on_transport(TransportEvent::Opened { conn, peer: Peer::disconnecting(frames_tx, close_tx) }).await;
    // The first reply fills the queue; the second finds it full.
    task.on_transport(TransportEvent::Frame { conn, text: initialize().to_string() }).await;
    assert!(task.machine.connections().contains(&conn));
    let list = json!({"id": 2, "method": "thread/list", "params": {}});
    task.on_transport(TransportEvent::Frame { conn, text: list.to_string() }).await;
    assert!(!task.machine.connections().contains(&conn), "the machine was told the connection closed");
    assert!(task.peers.is_empty());
    assert!(close_rx.await.is_err(), "dropped at once, not closed after the queue");
    let first: Value = serde_json::from_str(&frames_rx.recv().await.unwrap()).unwrap();
    assert_eq!(first["id"], 1);
    assert!(frames_rx.recv().await.is_none(), "nothing after the frame that did not fit");
    // Its late frames and its closing are ignored.
    task.on_transport(TransportEvent::Frame { conn, text: list.to_string() }).await;
    task.on_transport(TransportEvent::Closed { conn }).await;
    assert!(task.machine.connections().is_empty());
    std::fs::remove_dir_all(&home).unwrap();
}

#[tokio::test]
async fn shutdown_closes_disconnecting_peers_after_their_queue() {
    let home = temp_home();
    let mut task = machine_task(&home, Lifetime::UntilShutdown);
    let conn = ConnectionId(1);
    let (frames_tx, mut frames_rx) = mpsc::channel(8);
    let (close_tx, close_rx) = tokio::sync::oneshot::channel();
    task.on_transport(TransportEvent::Opened { conn, peer: Peer::disconnecting(frames_tx, close_tx) }).await;
    task.on_transport(TransportEvent::Frame { conn, text: initialize().to_string() }).await;
    task.feed(Input::Shutdown).await;
    assert_eq!(close_rx.await, Ok(()), "closed after what is queued");
    assert!(frames_rx.recv().await.is_some());
    assert!(task.peers.is_empty());
    std::fs::remove_dir_all(&home).unwrap();
}

#[tokio::test]
async fn a_waiting_peer_holds_the_machine_task_until_its_queue_has_room() {
    let home = temp_home();
    let mut task = machine_task(&home, Lifetime::UntilLastConnection);
    let (frames_tx, mut frames_rx) = mpsc::channel(1);
    task.on_transport(TransportEvent::Opened { conn: STDIO_CONNECTION, peer: Peer::waiting(frames_tx) })
        .await;
    task.on_transport(TransportEvent::Frame { conn: STDIO_CONNECTION, text: initialize().to_string() }).await;
    let list = json!({"id": 2, "method": "thread/list", "params": {}}).to_string();
    let reader = tokio::spawn(async move {
        let mut ids = Vec::new();
        while let Some(frame) = frames_rx.recv().await {
            ids.push(serde_json::from_str::<Value>(&frame).unwrap()["id"].clone());
        }
        ids
    });
    task.on_transport(TransportEvent::Frame { conn: STDIO_CONNECTION, text: list }).await;
    assert!(task.machine.connections().contains(&STDIO_CONNECTION), "still open");
    task.on_transport(TransportEvent::Closed { conn: STDIO_CONNECTION }).await;
    assert!(task.finished());
    drop(task);
    assert_eq!(reader.await.unwrap(), vec![json!(1), json!(2)]);
    std::fs::remove_dir_all(&home).unwrap();
}
