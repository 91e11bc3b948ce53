//! Proptest strategies for `core_sm::wire` types, one module per concern. Values are kept
//! realistic (UUIDv7 ids, timestamps of this decade, small nested JSON) so that a failure points
//! at a wire shape rather than at an absurd input. Notifications have no module of their own:
//! their tests assemble them from these strategies.

pub mod item;
pub mod leaf;
pub mod model;
pub mod requests;
pub mod server_requests;
pub mod settings;
