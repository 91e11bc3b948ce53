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
/// Server requests go to initialized subscribers with integer ids (grows with invariant 3).
pub const SERVER_REQUEST_ROUTING: &str = "3-server-request-routing";
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
