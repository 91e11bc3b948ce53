//! Params given by position (`"params":["<thread id>", ...]`): JSON-RPC allows them and serde
//! fills a structure from an array in declaration order, so the machine, like Codex, accepts
//! them. The oracle reads the same members from them as from named params.

use super::{parse_thread, parse_turn, Parser};
use crate::oracle::scan::{ScanError, Summary};

/// Where a method's params structure puts the members the oracle reads, for params given
/// by position (JSON-RPC allows it; serde fills a structure from an array in declaration
/// order, so the machine, like Codex, accepts them).
const POSITIONAL: &[(&str, &[Member])] = &[
    ("initialize", &[Member::Skip, Member::Capabilities]),
    ("thread/resume", &[Member::Thread]),
    ("thread/fork", &[Member::Thread]),
    ("thread/archive", &[Member::Thread]),
    ("thread/unarchive", &[Member::Thread]),
    ("thread/read", &[Member::Thread]),
    ("thread/name/set", &[Member::Thread]),
    ("thread/unsubscribe", &[Member::Thread]),
    ("turn/start", &[Member::Thread]),
    ("turn/steer", &[Member::Thread, Member::Turn]),
    ("turn/interrupt", &[Member::Thread, Member::Turn]),
];

/// A member of by-position params the oracle reads.
#[derive(Clone, Copy)]
enum Member {
    Skip,
    Thread,
    Turn,
    Capabilities,
}

impl Parser<'_, '_> {
    /// Reads by-position params (already validated) as [`POSITIONAL`] lays them out.
    pub(super) fn positional(&mut self, out: &mut Summary) -> Result<(), ScanError> {
        let layout = POSITIONAL.iter().find(|(m, _)| *m == out.method()).map_or(&[][..], |(_, l)| *l);
        let mut index = 0;
        self.array(|p| {
            match (layout.get(index), p.peek()) {
                (Some(Member::Thread), Some(b'"')) => {
                    let s = p.string()?;
                    out.thread_id = parse_thread(&s, &mut out.bad_id);
                }
                (Some(Member::Turn), Some(b'"')) => {
                    let s = p.string()?;
                    out.turn_id = parse_turn(&s, &mut out.bad_id);
                }
                (Some(Member::Capabilities), Some(b'{')) => p.capabilities(out)?,
                _ => p.skip_value()?,
            }
            index += 1;
            Ok(())
        })
    }
}
