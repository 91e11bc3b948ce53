//! Proptest strategies for the action model, shared by the integration tests.

#![allow(dead_code)] // Each test target uses a subset.

use proptest::prelude::*;
use sim::actions::{Action, ClientOp, MALFORMED, REPLIES};

pub fn client_op() -> impl Strategy<Value = ClientOp> {
    let pick = any::<u8>();
    prop_oneof![
        3 => any::<bool>().prop_map(|reuse| ClientOp::Connect { reuse }),
        1 => Just(ClientOp::Disconnect),
        3 => (any::<u16>(), any::<bool>())
            .prop_map(|(opt_out, experimental)| ClientOp::Initialize { opt_out, experimental }),
        1 => Just(ClientOp::ResumeAll),
        3 => any::<bool>().prop_map(|ephemeral| ClientOp::ThreadStart { ephemeral }),
        2 => (pick, any::<bool>())
            .prop_map(|(pick, exclude_turns)| ClientOp::ThreadResume { pick, exclude_turns }),
        1 => (pick, any::<bool>())
            .prop_map(|(pick, include_turns)| ClientOp::ThreadRead { pick, include_turns }),
        1 => (0u8..4).prop_map(|limit| ClientOp::ThreadList { limit }),
        1 => Just(ClientOp::LoadedList),
        6 => pick.prop_map(|pick| ClientOp::TurnStart { pick }),
        2 => (pick, any::<bool>()).prop_map(|(pick, stale)| ClientOp::TurnSteer { pick, stale }),
        2 => (pick, any::<bool>())
            .prop_map(|(pick, stale)| ClientOp::TurnInterrupt { pick, stale }),
        1 => pick.prop_map(|pick| ClientOp::Unsubscribe { pick }),
        1 => pick.prop_map(|pick| ClientOp::NameSet { pick }),
        1 => (pick, any::<bool>()).prop_map(|(pick, last_turn)| ClientOp::Fork { pick, last_turn }),
        1 => pick.prop_map(|pick| ClientOp::Archive { pick }),
        1 => pick.prop_map(|pick| ClientOp::Unarchive { pick }),
        1 => (0..MALFORMED.len(), pick)
            .prop_map(|(k, pick)| ClientOp::Malformed { kind: MALFORMED[k], pick }),
        5 => (pick, 0..REPLIES.len()).prop_map(|(pick, r)| ClientOp::Answer { pick, reply: REPLIES[r] }),
    ]
}

pub fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        40 => (0u8..4, client_op()).prop_map(|(client, op)| Action::Client { client, op }),
        30 => (1u8..6).prop_map(|n| Action::Deliver { n }),
        6 => prop_oneof![1u16..100, 100u16..4000].prop_map(|ms| Action::Advance { ms }),
        1 => Just(Action::Restart),
    ]
}
