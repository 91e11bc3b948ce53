//! Invariant names. The number prefix is the invariant's number in the simulator's spec
//! (0 for frame well-formedness); a failure report leads with the name.

/// Every frame is valid JSON.
pub const FRAME_JSON: &str = "0-frame-is-valid-json";
/// Every frame is a request, notification, result or error, with the fields it needs.
pub const FRAME_SHAPE: &str = "0-frame-shape";
/// Notifications carry an integer `emittedAtMs` equal to the machine's time.
pub const EMITTED_AT: &str = "0-notification-emittedAtMs";
/// `turn/started` only after the connection saw the thread become `active`.
pub const ACTIVE_BEFORE_TURN_STARTED: &str = "1-active-before-turn-started";
/// After `turn/started`, a non-active status only right before `turn/completed`.
pub const IDLE_ONLY_BEFORE_COMPLETED: &str = "1-idle-only-right-before-turn-completed";
/// `turn/started` is sent only in the step where the engine reports the turn started.
pub const TURN_STARTED_BY_ENGINE: &str = "1-turn-started-only-when-engine-starts-it";
/// `turn/completed` is sent only when the engine ends the turn, with the matching status.
pub const TURN_COMPLETED_BY_ENGINE: &str = "2-turn-completed-matches-engine-end";
/// A connection sees `turn/started` at most once per turn, and not after it completed.
pub const TURN_STARTED_ONCE: &str = "2-turn-started-once";
/// A turn completes exactly once.
pub const TURN_COMPLETES_ONCE: &str = "2-turn-completes-once";
/// `turn/completed` carries a terminal status.
pub const TURN_TERMINAL: &str = "2-turn-completed-terminal-status";
/// One turn at a time per thread: events belong to the open turn.
pub const TURN_ORDER: &str = "2-one-turn-at-a-time";
/// Nothing for a turn after its `turn/completed`.
pub const NOTHING_AFTER_TURN: &str = "2-no-item-after-turn-completed";
/// Every `item/started` gets exactly one `item/completed`, before the turn completes.
pub const ITEM_PAIRS: &str = "2-item-started-then-completed-once";
/// At quiescence, every turn `turn/start` accepted has ended and every turn a subscriber
/// watched has completed.
pub const TURN_NEVER_COMPLETED: &str = "2-started-turn-completes";
/// A new server request goes, with one id, to every initialized subscriber of its thread at
/// that moment (token refreshes: every initialized connection), and only to them.
pub const SERVER_REQUEST_ROUTING: &str = "3-server-request-routing";
/// Server request ids are integers from one counter starting at 0, one per request, strictly
/// increasing (per machine: a restarted server counts from 0 again).
pub const SERVER_REQUEST_IDS: &str = "3-server-request-ids-one-counter-from-0";
/// A request is what the engine asked for: its method, thread, network prompt item id.
pub const SERVER_REQUEST_MATCHES_ENGINE: &str = "3-server-request-matches-engine-request";
/// Every server request leaves the pending set exactly once: the first answer from a
/// connection that received it, a turn transition, a teardown, or a token refresh's timeout.
pub const RESOLVED_EXACTLY_ONCE: &str = "3-request-resolved-exactly-once";
/// `serverRequest/resolved` comes exactly in the step an answer or turn transition resolves a
/// request, to every current subscriber, never for `item/tool/call` or token refreshes, never
/// on teardown.
pub const RESOLVED_NOTIFICATION: &str = "3-resolved-notification-with-resolution";
/// `serverRequest/resolved` never precedes the request on a connection.
pub const RESOLVED_AFTER_REQUEST: &str = "3-resolved-never-precedes-request";
/// A resolved request is never sent again (no replay after resolution).
pub const RESOLVED_NEVER_RESENT: &str = "3-resolved-request-never-resent";
/// The engine is told exactly once per request key (`Abandoned` exactly for turn
/// transitions, the client's decision for answers), never for a key it did not ask (a thread
/// reopened after an unload has a new engine, which did not ask the old one's keys), and every
/// engine request is answered at once or opens a request.
pub const ENGINE_TOLD_ONCE: &str = "3-engine-told-once-per-request";
/// The flags of every announced status agree with the thread's pending requests, and flag
/// changes are announced.
pub const STATUS_FLAGS: &str = "3-status-flags-match-pending-requests";
/// At quiescence no request is pending and the engine waits for nothing.
pub const EVERY_REQUEST_RESOLVED: &str = "3-every-request-resolved-at-quiescence";
/// After a `thread/resume` reply the resumer receives every pending request of the thread:
/// original ids, ascending, identical frames; requests are re-sent only then.
pub const REPLAY_ON_RESUME: &str = "4-resume-replays-pending-requests";
/// At most one outstanding network prompt per (host lowercased, protocol, port) per thread.
pub const ONE_NETWORK_PROMPT: &str = "7-one-network-prompt-per-destination";
/// A destination allowed (or denied) for the session is answered without a prompt while
/// the thread stays loaded.
pub const NETWORK_SESSION_DECISION: &str = "7-session-decision-never-prompts-again";
/// Every network attempt gets exactly one verdict, matching the decision that released it.
pub const NETWORK_ONE_VERDICT: &str = "7-every-network-attempt-gets-one-verdict";
/// Not the machine's: the driver (engine) reused a request key within a thread.
pub const DRIVER_KEYS_UNIQUE: &str = "driver-engine-request-keys-unique";
/// Replies go only to the connection that sent the request.
pub const RESPONSE_TO_REQUESTER: &str = "5-response-only-to-requester";
/// Thread events go only to the thread's current subscribers.
pub const THREAD_EVENT_TO_SUBSCRIBER: &str = "5-thread-event-only-to-subscribers";
/// Turn and item events reach every current subscriber (minus opt-outs).
pub const THREAD_EVENT_TO_ALL: &str = "5-thread-event-to-every-subscriber";
/// Broadcasts reach every initialized connection (minus opt-outs).
pub const BROADCAST_TO_ALL: &str = "5-broadcast-to-every-initialized-connection";
/// Opted-out notification methods never arrive.
pub const OPT_OUT: &str = "5-opt-out-respected";
/// Nothing but replies reaches a connection before its `initialize` succeeded.
pub const BEFORE_INITIALIZE: &str = "5-nothing-before-initialize";
/// Frames go only to open connections.
pub const FRAME_TO_CLOSED: &str = "5-frames-only-to-open-connections";
/// `thread/unsubscribe` says `unsubscribed` exactly when the connection was subscribed.
pub const UNSUBSCRIBE_STATUS: &str = "5-unsubscribe-status-matches-subscription";
/// The machine's subscriber sets match the ones the frames imply.
pub const SUBSCRIBERS_AGREE: &str = "5-subscribers-match-machine";
/// Status notifications agree with `Machine::thread_status` at emission.
pub const STATUS_AGREES: &str = "6-status-matches-machine";
/// A status change is announced to initialized connections.
pub const STATUS_ANNOUNCED: &str = "6-status-change-announced";
/// Status notifications are deduplicated.
pub const STATUS_DEDUP: &str = "6-status-deduplicated";
/// At quiescence no thread is `active`.
pub const ACTIVE_AT_QUIESCENCE: &str = "6-no-active-thread-at-quiescence";
/// At most one reply per request.
pub const ONE_REPLY: &str = "8-one-reply-per-request";
/// At quiescence every request on an open connection has its reply.
pub const UNANSWERED: &str = "8-every-request-answered";
