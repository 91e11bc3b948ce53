//! The byte encoding of a [`Script`]: each tag byte range maps to one variant, and the encoder
//! writes the first byte of the range, so [`Script::encode`] is the exact inverse of decoding.

use arbitrary::{Arbitrary, Unstructured};

use super::*;
use crate::bytes::{Sink, Src};

const ACTION_TAGS: [(u8, u8); 9] = [
    (0, 9),     // Open
    (10, 14),   // Close
    (15, 99),   // Request
    (100, 124), // Answer
    (125, 139), // Raw
    (140, 219), // Engine
    (220, 232), // Storage
    (233, 252), // Advance
    (253, 255), // Shutdown
];

const EVENT_TAGS: [(u8, u8); 12] = [
    (0, 29),    // TurnStarted
    (30, 69),   // ItemStarted
    (70, 104),  // ItemDelta
    (105, 144), // ItemCompleted
    (145, 154), // TokenUsage
    (155, 194), // Request
    (195, 209), // Network
    (210, 214), // Retrying
    (215, 219), // Warning
    (220, 237), // TurnCompleted
    (238, 246), // TurnAborted
    (247, 255), // TurnFailed
];

const ID_TAGS: [(u8, u8); 6] = [(0, 199), (200, 214), (215, 229), (230, 239), (240, 247), (248, 255)];
const STORED_TAGS: [(u8, u8); 3] = [(0, 119), (120, 199), (200, 255)];

fn tag(b: u8, table: &[(u8, u8)]) -> usize {
    table.iter().position(|(lo, hi)| (*lo..=*hi).contains(&b)).expect("tables cover 0..=255")
}

impl Script {
    /// Decodes a script (never fails; every byte string is a script).
    pub fn decode(data: &[u8]) -> Script {
        let mut src = Src::new(data);
        let mut actions = Vec::new();
        while !src.is_empty() && actions.len() < MAX_ACTIONS {
            actions.push(Action::decode(&mut src));
        }
        Script { actions }
    }

    /// The bytes that decode to this script.
    pub fn encode(&self) -> Vec<u8> {
        let mut sink = Sink::default();
        for a in &self.actions {
            a.encode(&mut sink);
        }
        sink.out
    }
}

impl<'a> Arbitrary<'a> for Script {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let n = u.len();
        Ok(Script::decode(u.bytes(n)?))
    }

    fn arbitrary_take_rest(u: Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Script::decode(u.take_rest()))
    }
}

impl Action {
    fn decode(src: &mut Src) -> Action {
        match tag(src.byte(), &ACTION_TAGS) {
            0 => Action::Open { conn: src.byte() },
            1 => Action::Close { conn: src.byte() },
            2 => Action::Request {
                conn: src.byte(),
                id: Id::decode(src),
                method: src.u16(),
                params: src.chunk(),
            },
            3 => {
                Action::Answer { conn: src.byte(), target: src.byte(), reply: src.byte(), body: src.chunk() }
            }
            4 => Action::Raw { conn: src.byte(), text: Text(src.chunk16()) },
            5 => Action::Engine { thread: src.byte(), turn: src.byte(), event: Event::decode(src) },
            6 => Action::Storage { load: src.byte(), result: Stored::decode(src) },
            7 => Action::Advance { step: src.byte() },
            _ => Action::Shutdown,
        }
    }

    fn encode(&self, s: &mut Sink) {
        let t = |i: usize| ACTION_TAGS[i].0;
        match self {
            Action::Open { conn } => {
                s.byte(t(0));
                s.byte(*conn);
            }
            Action::Close { conn } => {
                s.byte(t(1));
                s.byte(*conn);
            }
            Action::Request { conn, id, method, params } => {
                s.byte(t(2));
                s.byte(*conn);
                id.encode(s);
                s.u16(*method);
                s.chunk(params);
            }
            Action::Answer { conn, target, reply, body } => {
                s.byte(t(3));
                s.byte(*conn);
                s.byte(*target);
                s.byte(*reply);
                s.chunk(body);
            }
            Action::Raw { conn, text } => {
                s.byte(t(4));
                s.byte(*conn);
                s.chunk16(&text.0);
            }
            Action::Engine { thread, turn, event } => {
                s.byte(t(5));
                s.byte(*thread);
                s.byte(*turn);
                event.encode(s);
            }
            Action::Storage { load, result } => {
                s.byte(t(6));
                s.byte(*load);
                result.encode(s);
            }
            Action::Advance { step } => {
                s.byte(t(7));
                s.byte(*step);
            }
            Action::Shutdown => s.byte(t(8)),
        }
    }
}

impl Id {
    fn decode(src: &mut Src) -> Id {
        match tag(src.byte(), &ID_TAGS) {
            0 => Id::Next,
            1 => Id::Str(src.byte()),
            2 => Id::Reuse(src.byte()),
            3 => Id::Int(src.byte()),
            4 => Id::Weird(src.byte()),
            _ => Id::None,
        }
    }

    fn encode(&self, s: &mut Sink) {
        let t = |i: usize| ID_TAGS[i].0;
        match self {
            Id::Next => s.byte(t(0)),
            Id::Str(b) => {
                s.byte(t(1));
                s.byte(*b);
            }
            Id::Reuse(b) => {
                s.byte(t(2));
                s.byte(*b);
            }
            Id::Int(b) => {
                s.byte(t(3));
                s.byte(*b);
            }
            Id::Weird(b) => {
                s.byte(t(4));
                s.byte(*b);
            }
            Id::None => s.byte(t(5)),
        }
    }
}

impl Event {
    fn decode(src: &mut Src) -> Event {
        match tag(src.byte(), &EVENT_TAGS) {
            0 => Event::TurnStarted,
            1 => Event::ItemStarted { key: src.byte(), body: src.byte() },
            2 => Event::ItemDelta { key: src.byte(), delta: src.byte() },
            3 => Event::ItemCompleted { key: src.byte(), body: src.byte() },
            4 => Event::TokenUsage { size: src.byte() },
            5 => Event::Request { kind: src.byte(), item: src.byte(), variant: src.byte() },
            6 => Event::Network { host: src.byte(), port: src.byte() },
            7 => Event::Retrying { error: src.byte() },
            8 => Event::Warning { text: src.byte() },
            9 => Event::TurnCompleted,
            10 => Event::TurnAborted,
            _ => Event::TurnFailed { error: src.byte() },
        }
    }

    fn encode(&self, s: &mut Sink) {
        let t = |i: usize| EVENT_TAGS[i].0;
        let mut put = |tag: u8, bytes: &[u8]| {
            s.byte(tag);
            for b in bytes {
                s.byte(*b);
            }
        };
        match self {
            Event::TurnStarted => put(t(0), &[]),
            Event::ItemStarted { key, body } => put(t(1), &[*key, *body]),
            Event::ItemDelta { key, delta } => put(t(2), &[*key, *delta]),
            Event::ItemCompleted { key, body } => put(t(3), &[*key, *body]),
            Event::TokenUsage { size } => put(t(4), &[*size]),
            Event::Request { kind, item, variant } => put(t(5), &[*kind, *item, *variant]),
            Event::Network { host, port } => put(t(6), &[*host, *port]),
            Event::Retrying { error } => put(t(7), &[*error]),
            Event::Warning { text } => put(t(8), &[*text]),
            Event::TurnCompleted => put(t(9), &[]),
            Event::TurnAborted => put(t(10), &[]),
            Event::TurnFailed { error } => put(t(11), &[*error]),
        }
    }
}

impl Stored {
    fn decode(src: &mut Src) -> Stored {
        match tag(src.byte(), &STORED_TAGS) {
            0 => Stored::Loaded { variant: src.byte() },
            1 => Stored::NotFound,
            _ => Stored::Failed { text: src.byte() },
        }
    }

    fn encode(&self, s: &mut Sink) {
        let t = |i: usize| STORED_TAGS[i].0;
        match self {
            Stored::Loaded { variant } => {
                s.byte(t(0));
                s.byte(*variant);
            }
            Stored::NotFound => s.byte(t(1)),
            Stored::Failed { text } => {
                s.byte(t(2));
                s.byte(*text);
            }
        }
    }
}
