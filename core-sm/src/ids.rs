//! Identifiers and the seeded generator that mints them.

use std::fmt;

use uuid::Uuid;

use crate::time::Timestamp;

/// A transport connection, numbered by the adapter that owns it (stdio is 0, websockets from 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnectionId(pub u64);

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conn#{}", self.0)
    }
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct $name(pub Uuid);

        /// The UUID's order (its bytes, big-endian), compared as one number: ids key the
        /// machine's maps, so this runs on almost every input.
        impl Ord for $name {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                self.0.as_u128().cmp(&other.0.as_u128())
            }
        }

        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl $name {
            /// Parses the hyphenated (or any uuid-crate accepted) form.
            pub fn parse(s: &str) -> Result<Self, uuid::Error> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                // Formatted on the stack: no `fmt` machinery, the same lowercase hyphenated text.
                s.serialize_str(self.0.hyphenated().encode_lower(&mut Uuid::encode_buffer()))
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

uuid_id!(
    /// A thread (conversation) id: a UUIDv7 string on the wire, equal to its `sessionId`.
    ThreadId
);
uuid_id!(
    /// A turn id: a UUIDv7 string on the wire, minted when the turn is submitted.
    TurnId
);

/// An item id. The machine mints UUIDv7 ids for every item it announces.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ItemId(pub String);

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The machine's only source of randomness: a PRNG seeded at construction.
///
/// Ids are UUIDv7 like Codex's: the caller's `now` in the timestamp bits, the seeded PRNG in
/// the random bits, so one seed and one input sequence always yield the same ids.
#[derive(Debug)]
pub(crate) struct IdGen {
    rng: fastrand::Rng,
}

impl IdGen {
    pub(crate) fn new(seed: u64) -> Self {
        Self { rng: fastrand::Rng::with_seed(seed) }
    }

    pub(crate) fn uuid_v7(&mut self, now: Timestamp) -> Uuid {
        let mut random = [0u8; 10];
        self.rng.fill(&mut random);
        uuid::Builder::from_unix_timestamp_millis(now.0, &random).into_uuid()
    }

    pub(crate) fn thread_id(&mut self, now: Timestamp) -> ThreadId {
        ThreadId(self.uuid_v7(now))
    }

    pub(crate) fn turn_id(&mut self, now: Timestamp) -> TurnId {
        TurnId(self.uuid_v7(now))
    }

    pub(crate) fn item_id(&mut self, now: Timestamp) -> ItemId {
        ItemId(self.uuid_v7(now).hyphenated().encode_lower(&mut Uuid::encode_buffer()).to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_v7_and_fixed_by_seed_and_time() {
        let now = Timestamp(1_764_000_000_000);
        let a: Vec<_> = (0..3).map(|_| IdGen::new(7).thread_id(now)).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        let mut gen = IdGen::new(7);
        let (x, y) = (gen.thread_id(now), gen.thread_id(now));
        assert_ne!(x, y);
        assert_eq!(x.0.get_version_num(), 7);
        let (secs, _) = x.0.get_timestamp().unwrap().to_unix();
        assert_eq!(secs, 1_764_000_000);
    }
}
