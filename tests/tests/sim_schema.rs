//! Every frame the machine writes during a few hundred simulator seeds (faults, malformed
//! input, reconnects, restarts and all) is valid against the Codex 0.169.0 schema. The sim's
//! recorded inputs are replayed into a fresh machine per generation and each server frame is
//! checked by kind: notifications and server requests by method, results by the method of the
//! request they answer, errors by the error shape.

use std::collections::BTreeMap;

use core_sm::{ConnectionId, Input, Machine, Output};
use serde_json::Value;
use sim::{Sim, SimOptions};
use tests::Schema;

const SEEDS: u64 = 300;

#[test]
fn simulator_frames_are_schema_valid() {
    let schema = Schema::load();
    let mut frames = 0usize;
    let mut failures = Vec::new();
    for seed in 0..SEEDS {
        let mut sim = Sim::new(seed, SimOptions { record_inputs: true, ..SimOptions::default() });
        if let Err(failure) = sim.run() {
            panic!("seed {seed} failed in the simulator itself: {failure:?}");
        }
        let mut generation = None;
        let mut machine = None;
        // Per connection: request id (as JSON text) -> every method it sent with that id (the
        // simulator sometimes reuses an id before the first reply).
        let mut asked: BTreeMap<ConnectionId, BTreeMap<String, Vec<String>>> = BTreeMap::new();
        for (gen, now, input) in sim.recorded_inputs() {
            if generation != Some(*gen) {
                generation = Some(*gen);
                machine = Some(Machine::new(sim.machine_config(*gen)));
                asked.clear();
            }
            let m = machine.as_mut().expect("machine of this generation");
            match input {
                Input::ConnectionOpened { conn } | Input::ConnectionClosed { conn } => {
                    asked.remove(conn);
                }
                Input::Frame { conn, text } => {
                    if let Ok(v) = serde_json::from_str::<Value>(text) {
                        if let (Some(id), Some(method)) =
                            (v.get("id"), v.get("method").and_then(Value::as_str))
                        {
                            asked
                                .entry(*conn)
                                .or_default()
                                .entry(id.to_string())
                                .or_default()
                                .push(method.to_owned());
                        }
                    }
                }
                _ => {}
            }
            m.handle(*now, input.clone());
            while let Some(out) = m.poll_output() {
                let Output::Send { conn, frame } = out else { continue };
                frames += 1;
                let v: Value = serde_json::from_str(&frame).expect("frames are JSON");
                let result = if v.get("method").is_some() && v.get("id").is_some() {
                    schema.validate_server_request(&v)
                } else if v.get("method").is_some() {
                    schema.validate_server_notification(&v)
                } else if v.get("error").is_some() {
                    schema.validate_error_response(&v)
                } else {
                    // With a reused id, replies may come in any order (some are deferred): the
                    // result must fit one of the methods the connection sent under that id.
                    let key = v["id"].to_string();
                    let Some(methods) = asked.get(&conn).and_then(|a| a.get(&key)) else {
                        failures
                            .push(format!("seed {seed}: result for an id the connection never used: {v}"));
                        continue;
                    };
                    let checks: Vec<_> = methods.iter().map(|m| schema.validate_response(m, &v)).collect();
                    match checks.iter().any(Result::is_ok) {
                        true => Ok(()),
                        false => checks.into_iter().next().unwrap_or(Ok(())),
                    }
                };
                if let Err(e) = result {
                    failures.push(format!("seed {seed}: {e}"));
                }
            }
        }
    }
    println!("validated {frames} frames from {SEEDS} seeds");
    assert!(frames > 10_000, "the seeds exercised too little: {frames} frames");
    assert!(
        failures.is_empty(),
        "{} invalid frames, first ones:\n{}",
        failures.len(),
        failures[..failures.len().min(5)].join("\n")
    );
}
