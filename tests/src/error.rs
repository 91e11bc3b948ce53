//! Error types of the schema checker: [`SchemaError`] (a frame does not conform) and
//! [`LoadError`] (the schema bundle could not be loaded).

use std::fmt;
use std::path::PathBuf;

/// Longest message text kept per violation; schema errors for unions can embed whole frames.
const MAX_MESSAGE_CHARS: usize = 400;

/// One reason a frame does not conform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// JSON pointer into the frame (not into `result`/`params`) of the offending value;
    /// `""` is the whole frame.
    pub pointer: String,
    /// What is wrong, in words.
    pub message: String,
    /// The schema keyword that failed, as a path from the validated definition, when the
    /// failure came from the JSON Schema (empty for envelope rules checked by hand).
    pub schema_path: String,
}

impl Violation {
    /// A violation of an envelope rule that is checked by hand rather than by the schema.
    pub fn envelope(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Violation { pointer: pointer.into(), message: truncate(message.into()), schema_path: String::new() }
    }

    /// A violation reported by the JSON Schema validator.
    pub fn schema(
        pointer: impl Into<String>,
        message: impl Into<String>,
        schema_path: impl Into<String>,
    ) -> Self {
        Violation {
            pointer: pointer.into(),
            message: truncate(message.into()),
            schema_path: schema_path.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer = if self.pointer.is_empty() { "(frame)" } else { &self.pointer };
        write!(f, "at {pointer}: {}", self.message)?;
        if !self.schema_path.is_empty() {
            write!(f, " [schema {}]", self.schema_path)?;
        }
        Ok(())
    }
}

/// A frame failed validation: `subject` names what it was checked as (direction, method,
/// definition), `violations` lists every failing JSON pointer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaError {
    /// What the frame was validated as, e.g.
    /// ``response to `thread/start` (result: v2/ThreadStartResponse)``.
    pub subject: String,
    /// Every reason the frame does not conform; never empty.
    pub violations: Vec<Violation>,
}

impl SchemaError {
    /// An error with a single violation.
    pub fn single(subject: impl Into<String>, violation: Violation) -> Self {
        SchemaError { subject: subject.into(), violations: vec![violation] }
    }

    /// The failing JSON pointers, in report order (may repeat).
    pub fn pointers(&self) -> Vec<&str> {
        self.violations.iter().map(|v| v.pointer.as_str()).collect()
    }
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.violations.len();
        write!(f, "{}: {n} violation{}", self.subject, if n == 1 { "" } else { "s" })?;
        for v in &self.violations {
            write!(f, "\n  - {v}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SchemaError {}

/// Turns a list of violations into `Ok(())` when empty, else into a [`SchemaError`].
///
/// Schema violations at a pointer that an envelope rule already reported (`/id`,
/// `/error/code`, ...) are dropped: the envelope message is the more specific one.
pub(crate) fn finish(
    subject: impl FnOnce() -> String,
    mut violations: Vec<Violation>,
) -> Result<(), SchemaError> {
    let envelope: Vec<String> =
        violations.iter().filter(|v| v.schema_path.is_empty()).map(|v| v.pointer.clone()).collect();
    violations.retain(|v| v.schema_path.is_empty() || !envelope.contains(&v.pointer));
    if violations.is_empty() {
        Ok(())
    } else {
        Err(SchemaError { subject: subject(), violations })
    }
}

/// The schema bundle could not be read or compiled.
#[derive(Debug)]
pub struct LoadError {
    /// The file or directory involved.
    pub path: PathBuf,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot load the protocol schema from {}: {} (set TURNSTILE_SCHEMA_DIR to the \
             codex-0.169.0 schema directory)",
            self.path.display(),
            self.message
        )
    }
}

impl std::error::Error for LoadError {}

/// Shortens `s` to at most [`MAX_MESSAGE_CHARS`] characters, marking the cut.
pub(crate) fn truncate(s: String) -> String {
    truncate_to(s, MAX_MESSAGE_CHARS)
}

/// Shortens `s` to at most `max` characters, marking the cut.
pub(crate) fn truncate_to(s: String, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s,
        Some((cut, _)) => format!("{}… ({} chars)", &s[..cut], s.chars().count()),
    }
}
