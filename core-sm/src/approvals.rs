//! Decisions that outlive one request: session grants for commands, files and permissions, and
//! the managed-network gate that keeps one prompt per (host, protocol, port).

use std::collections::{BTreeMap, BTreeSet};

use crate::engine::RequestKey;
use crate::wire::server_requests::{
    CommandDecision, FileSystemPermissions, NetworkPermissions, NetworkPolicyAction, NetworkProtocol,
    PermissionProfile,
};

/// What the user granted for the rest of a thread's session.
#[derive(Debug, Default)]
pub(crate) struct SessionGrants {
    /// Commands accepted with `acceptForSession`; identical commands run without asking.
    pub(crate) commands: BTreeSet<String>,
    /// Paths whose changes were accepted with `acceptForSession`.
    pub(crate) files: BTreeSet<String>,
    /// Permissions granted with `scope: session`.
    pub(crate) permissions: PermissionProfile,
    /// Network destinations.
    pub(crate) network: NetworkGate,
}

impl SessionGrants {
    /// Whether everything in `requested` was already granted for the session.
    pub(crate) fn covers(&self, requested: &PermissionProfile) -> bool {
        let granted = &self.permissions;
        let fs = |r: &Option<Vec<String>>, g: &Option<Vec<String>>| {
            r.iter().flatten().all(|p| g.iter().flatten().any(|q| q == p))
        };
        let files_ok = requested.file_system.as_ref().is_none_or(|r| {
            let g = granted.file_system.clone().unwrap_or_default();
            fs(&r.read, &g.read) && fs(&r.write, &g.write)
        });
        let net_ok = requested.network.as_ref().and_then(|n| n.enabled) != Some(true)
            || granted.network.as_ref().and_then(|n| n.enabled) == Some(true);
        files_ok && net_ok
    }

    /// Adds a session-scoped grant.
    pub(crate) fn add_permissions(&mut self, grant: &PermissionProfile) {
        let merge = |into: &mut Option<Vec<String>>, from: &Option<Vec<String>>| {
            for p in from.iter().flatten() {
                let list = into.get_or_insert_with(Vec::new);
                if !list.contains(p) {
                    list.push(p.clone());
                }
            }
        };
        if let Some(fs) = &grant.file_system {
            let into = self.permissions.file_system.get_or_insert_with(FileSystemPermissions::default);
            merge(&mut into.read, &fs.read);
            merge(&mut into.write, &fs.write);
        }
        if grant.network.as_ref().and_then(|n| n.enabled) == Some(true) {
            self.permissions.network = Some(NetworkPermissions { enabled: Some(true) });
        }
    }
}

/// The server keeps only what was both requested and granted; omitted means denied.
pub(crate) fn intersect(requested: &PermissionProfile, granted: &PermissionProfile) -> PermissionProfile {
    let both = |r: &Option<Vec<String>>, g: &Option<Vec<String>>| -> Option<Vec<String>> {
        let kept: Vec<String> =
            r.iter().flatten().filter(|p| g.iter().flatten().any(|q| q == *p)).cloned().collect();
        (!kept.is_empty()).then_some(kept)
    };
    let file_system = match (&requested.file_system, &granted.file_system) {
        (Some(r), Some(g)) => {
            let fs = FileSystemPermissions { read: both(&r.read, &g.read), write: both(&r.write, &g.write) };
            (fs.read.is_some() || fs.write.is_some()).then_some(fs)
        }
        _ => None,
    };
    let network = (requested.network.as_ref().and_then(|n| n.enabled) == Some(true)
        && granted.network.as_ref().and_then(|n| n.enabled) == Some(true))
    .then_some(NetworkPermissions { enabled: Some(true) });
    PermissionProfile { file_system, network }
}

/// A managed-network destination: host (lowercased), protocol, port.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Destination {
    /// Lowercased host.
    pub host: String,
    /// Protocol.
    pub protocol: NetworkProtocol,
    /// Port.
    pub port: u16,
}

impl Destination {
    /// A destination, normalizing the host.
    pub fn new(host: &str, protocol: NetworkProtocol, port: u16) -> Self {
        Self { host: host.to_ascii_lowercase(), protocol, port }
    }

    /// The synthetic item id Codex uses for network prompts.
    pub fn item_id(&self) -> String {
        format!("network#{}#{}#{}", self.protocol.label(), self.host, self.port)
    }

    /// `<proto>://<host>:<port>`.
    pub fn url(&self) -> String {
        format!("{}://{}:{}", self.protocol.label(), self.host, self.port)
    }
}

/// What to do with a network attempt.
#[derive(Debug, PartialEq, Eq)]
pub enum NetworkRoute {
    /// Allowed for the session: proceed.
    Allow,
    /// Refused (session deny, or no prompt possible), with the tool's failure message.
    Deny(String),
    /// A prompt for this destination is outstanding: wait on it.
    Joined,
    /// No decision yet and a prompt is possible: the caller must send one and `open` it.
    Prompt,
}

/// How a network prompt was answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetworkAnswer {
    /// Release the waiting attempts only.
    AllowOnce,
    /// Release them and allow the destination for the session.
    AllowForSession,
    /// Refuse them.
    Deny,
    /// Refuse them and refuse the destination for the session.
    DenyForSession,
}

impl NetworkAnswer {
    /// Maps a client's command decision on a network prompt (PROTOCOL.md §13).
    pub fn from_decision(decision: &CommandDecision) -> Self {
        match decision {
            CommandDecision::Accept | CommandDecision::AcceptWithExecpolicyAmendment { .. } => {
                Self::AllowOnce
            }
            CommandDecision::AcceptForSession => Self::AllowForSession,
            CommandDecision::ApplyNetworkPolicyAmendment { network_policy_amendment: a } => match a.action {
                NetworkPolicyAction::Allow => Self::AllowForSession,
                NetworkPolicyAction::Deny => Self::DenyForSession,
            },
            CommandDecision::Decline | CommandDecision::Cancel => Self::Deny,
        }
    }
}

/// One prompt per destination; session allows and denies answer later attempts without asking.
/// Pure bookkeeping, so its properties are tested in isolation.
#[derive(Debug, Default)]
pub struct NetworkGate {
    allowed: BTreeSet<Destination>,
    denied: BTreeSet<Destination>,
    /// Destination → attempts waiting on its one outstanding prompt.
    waiting: BTreeMap<Destination, Vec<RequestKey>>,
}

impl NetworkGate {
    /// Routes an attempt. `can_prompt` is false when no prompt is possible (approval policy
    /// `never`, no active turn, unsandboxed), which denies by policy.
    pub fn attempt(&mut self, dest: &Destination, key: RequestKey, can_prompt: bool) -> NetworkRoute {
        if self.allowed.contains(dest) {
            return NetworkRoute::Allow;
        }
        if self.denied.contains(dest) {
            return NetworkRoute::Deny(rejected_by_user(dest));
        }
        if let Some(waiting) = self.waiting.get_mut(dest) {
            waiting.push(key);
            return NetworkRoute::Joined;
        }
        if !can_prompt {
            return NetworkRoute::Deny(format!(
                "Network access to \"{}\" was blocked by policy.",
                dest.url()
            ));
        }
        self.waiting.insert(dest.clone(), vec![key]);
        NetworkRoute::Prompt
    }

    /// Whether an attempt made under `key` is waiting on a prompt.
    pub fn is_waiting(&self, key: RequestKey) -> bool {
        self.waiting.values().any(|keys| keys.contains(&key))
    }

    /// Resolves the destination's prompt: the attempts it releases or refuses, and the verdict.
    pub fn answer(
        &mut self,
        dest: &Destination,
        answer: NetworkAnswer,
    ) -> (Vec<RequestKey>, Result<(), String>) {
        let keys = self.waiting.remove(dest).unwrap_or_default();
        let verdict = match answer {
            NetworkAnswer::AllowOnce => Ok(()),
            NetworkAnswer::AllowForSession => {
                self.denied.remove(dest);
                self.allowed.insert(dest.clone());
                Ok(())
            }
            NetworkAnswer::Deny => Err(rejected_by_user(dest)),
            NetworkAnswer::DenyForSession => {
                self.allowed.remove(dest);
                self.denied.insert(dest.clone());
                Err(rejected_by_user(dest))
            }
        };
        (keys, verdict)
    }

    /// Destinations with an outstanding prompt.
    pub fn prompting(&self) -> impl Iterator<Item = &Destination> {
        self.waiting.keys()
    }

    /// Whether the destination is allowed for the session.
    pub fn is_allowed(&self, dest: &Destination) -> bool {
        self.allowed.contains(dest)
    }
}

fn rejected_by_user(dest: &Destination) -> String {
    format!("Network access to \"{}\" was rejected by user.", dest.url())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dest(host: &str, port: u16) -> Destination {
        Destination::new(host, NetworkProtocol::Https, port)
    }

    #[test]
    fn three_attempts_two_prompts_and_ports_are_separate() {
        let mut gate = NetworkGate::default();
        let routes: Vec<NetworkRoute> = [("a.com", 443), ("b.com", 443), ("A.com", 443), ("a.com", 80)]
            .iter()
            .enumerate()
            .map(|(i, (h, p))| gate.attempt(&dest(h, *p), RequestKey(i as u64), true))
            .collect();
        assert_eq!(
            routes,
            [NetworkRoute::Prompt, NetworkRoute::Prompt, NetworkRoute::Joined, NetworkRoute::Prompt]
        );
        let (released, verdict) = gate.answer(&dest("a.com", 443), NetworkAnswer::AllowOnce);
        assert_eq!((released, verdict), (vec![RequestKey(0), RequestKey(2)], Ok(())));
        assert_eq!(
            gate.attempt(&dest("a.com", 443), RequestKey(9), true),
            NetworkRoute::Prompt,
            "once is not session"
        );
        assert!(matches!(gate.attempt(&dest("a.com", 443), RequestKey(10), false), NetworkRoute::Joined));
        assert!(
            matches!(gate.attempt(&dest("c.com", 443), RequestKey(11), false), NetworkRoute::Deny(m) if m.contains("blocked by policy"))
        );
    }

    #[derive(Clone, Debug)]
    enum Step {
        Attempt(u8, bool),
        Answer(u8, u8),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (0u8..4, any::<bool>()).prop_map(|(d, p)| Step::Attempt(d, p)),
            (0u8..4, 0u8..4).prop_map(|(d, a)| Step::Answer(d, a)),
        ]
    }

    proptest! {
        /// For any interleaving of attempts and answers: outstanding prompts are exactly the
        /// distinct undecided destinations that asked, no attempt is released without an allow,
        /// and session allows persist (no later prompt for them).
        #[test]
        fn dedupe_properties(steps in proptest::collection::vec(step(), 0..60)) {
            let mut gate = NetworkGate::default();
            let mut outstanding: BTreeSet<u8> = BTreeSet::new();
            let mut session_allowed: BTreeSet<u8> = BTreeSet::new();
            let mut session_denied: BTreeSet<u8> = BTreeSet::new();
            let mut waiting: BTreeMap<u8, Vec<RequestKey>> = BTreeMap::new();
            let mut next = 0u64;
            for s in steps {
                match s {
                    Step::Attempt(d, can_prompt) => {
                        let key = RequestKey(next);
                        next += 1;
                        let route = gate.attempt(&dest(&format!("h{d}"), 443), key, can_prompt);
                        if session_allowed.contains(&d) {
                            prop_assert_eq!(route, NetworkRoute::Allow);
                        } else if session_denied.contains(&d) {
                            prop_assert!(matches!(route, NetworkRoute::Deny(_)));
                        } else if outstanding.contains(&d) {
                            prop_assert_eq!(route, NetworkRoute::Joined);
                            waiting.get_mut(&d).unwrap().push(key);
                        } else if can_prompt {
                            prop_assert_eq!(route, NetworkRoute::Prompt);
                            outstanding.insert(d);
                            waiting.insert(d, vec![key]);
                        } else {
                            prop_assert!(matches!(route, NetworkRoute::Deny(_)));
                        }
                    }
                    Step::Answer(d, a) => {
                        if !outstanding.remove(&d) { continue; }
                        let answer = [NetworkAnswer::AllowOnce, NetworkAnswer::AllowForSession, NetworkAnswer::Deny, NetworkAnswer::DenyForSession][a as usize];
                        let (keys, verdict) = gate.answer(&dest(&format!("h{d}"), 443), answer);
                        prop_assert_eq!(keys, waiting.remove(&d).unwrap());
                        let allow = matches!(answer, NetworkAnswer::AllowOnce | NetworkAnswer::AllowForSession);
                        prop_assert_eq!(verdict.is_ok(), allow, "released only on an allow");
                        if answer == NetworkAnswer::AllowForSession { session_allowed.insert(d); }
                        if answer == NetworkAnswer::DenyForSession { session_denied.insert(d); }
                    }
                }
                let prompting: BTreeSet<String> = gate.prompting().map(|d| d.host.clone()).collect();
                let expected: BTreeSet<String> = outstanding.iter().map(|d| format!("h{d}")).collect();
                prop_assert_eq!(prompting, expected);
            }
        }
    }

    #[test]
    fn permissions_intersect_and_session_grants_cover() {
        let req: PermissionProfile = serde_json::from_value(serde_json::json!({
            "fileSystem": {"read": ["/a", "/b"], "write": ["/c"]}, "network": {"enabled": true}
        }))
        .unwrap();
        let grant: PermissionProfile = serde_json::from_value(serde_json::json!({
            "fileSystem": {"read": ["/b", "/z"]}, "network": {"enabled": true}
        }))
        .unwrap();
        let kept = intersect(&req, &grant);
        assert_eq!(
            serde_json::to_value(&kept).unwrap(),
            serde_json::json!({"fileSystem": {"read": ["/b"]}, "network": {"enabled": true}})
        );
        let mut grants = SessionGrants::default();
        assert!(!grants.covers(&kept));
        grants.add_permissions(&kept);
        assert!(grants.covers(&kept));
        assert!(!grants.covers(&req));
    }
}
