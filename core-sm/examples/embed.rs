//! Embedding core-sm with no async runtime: feed frames and engine events, drain outputs.
//! The README's "Embedding core-sm" section shows this file's `main`; a test keeps them equal.

use std::collections::VecDeque;

use core_sm::{EngineCommand, EngineEvent, Input, Machine, MachineConfig, Output, Timestamp};

fn main() {
    let mut machine = Machine::new(MachineConfig::new(7)); // the seed fixes every id
    let conn = core_sm::ConnectionId(1);
    let frame = |text: &str| Input::Frame { conn, text: text.to_owned() };
    let mut inputs = VecDeque::from([
        Input::ConnectionOpened { conn },
        frame(r#"{"id":1,"method":"initialize","params":{"clientInfo":{"name":"e","version":"1"}}}"#),
        frame(r#"{"id":2,"method":"thread/start","params":{}}"#),
    ]);
    let mut now = Timestamp::from_millis(1_764_000_000_000); // your clock, passed in
    while let Some(input) = inputs.pop_front() {
        now = now.plus_millis(1);
        machine.handle(now, input);
        while let Some(output) = machine.poll_output() {
            match output {
                Output::Send { frame, .. } => println!("<- {frame}"), // write to the client
                Output::Engine { thread_id, command: EngineCommand::OpenThread { .. } } => inputs.push_back(frame(
                    &format!(r#"{{"id":3,"method":"turn/start","params":{{"threadId":"{thread_id}","input":[{{"type":"text","text":"hi"}}]}}}}"#),
                )),
                Output::Engine { thread_id, command: EngineCommand::StartTurn { turn_id, .. } } => {
                    // Your engine runs the turn and reports back.
                    inputs.push_back(Input::Engine { thread_id, event: EngineEvent::TurnStarted { turn_id } });
                    inputs.push_back(Input::Engine { thread_id, event: EngineEvent::TurnCompleted { turn_id } });
                }
                _ => {} // persist records, load requests, closes: carry them out
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_embedding_example_runs() {
        super::main();
    }
}
