//! Scenario files (`--scenario FILE`): scripted turns chosen by input text or position.
//!
//! ```json
//! {"turns": [
//!   {"match": "deploy", "steps": [{"exec": {"command": "make deploy", "exitCode": 2}}]},
//!   {"steps": [{"message": "first turn"}]},
//!   {"steps": [{"sleep": 500}, {"message": "second turn"}]}
//! ]}
//! ```
//!
//! For a thread's turn number `n` (0-based, counted per thread) with input text `t`: the first
//! entry with a `match` that `t` contains wins; otherwise the `n`-th entry *without* `match`
//! (if there is one); otherwise the turn runs the directives in `t` (or echoes it).

use std::path::Path;

use serde::Deserialize;

use super::action::Action;
use crate::error::StartupError;

/// A parsed scenario file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The scripted turns.
    pub turns: Vec<ScenarioTurn>,
}

/// One scripted turn.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioTurn {
    /// Run for any turn whose input text contains this (non-empty) substring.
    #[serde(rename = "match", default)]
    pub pattern: Option<String>,
    /// What the turn does.
    pub steps: Vec<Action>,
}

impl Scenario {
    /// Parses and validates scenario JSON.
    pub fn parse(text: &str) -> Result<Self, String> {
        let scenario: Scenario = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if let Some(i) = scenario.turns.iter().position(|t| t.pattern.as_deref() == Some("")) {
            return Err(format!("turns[{i}].match must not be empty"));
        }
        Ok(scenario)
    }

    /// Reads and validates a scenario file.
    pub fn load(path: &Path) -> Result<Self, StartupError> {
        let fail = |message: String| StartupError::Scenario { path: path.display().to_string(), message };
        let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
        Self::parse(&text).map_err(fail)
    }

    /// The steps for turn `turn_index` of a thread whose input text is `text`, if the
    /// scenario scripts it.
    pub fn steps_for(&self, text: &str, turn_index: u64) -> Option<&[Action]> {
        let matched = self.turns.iter().find(|t| t.pattern.as_deref().is_some_and(|p| text.contains(p)));
        let positional = || {
            let n = usize::try_from(turn_index).ok()?;
            self.turns.iter().filter(|t| t.pattern.is_none()).nth(n)
        };
        matched.or_else(positional).map(|t| t.steps.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCENARIO: &str = r#"{"turns": [
        {"steps": [{"message": "zero"}]},
        {"match": "deploy", "steps": [{"message": "deploying"}]},
        {"steps": [{"message": "one"}]},
        {"match": "dep", "steps": [{"message": "never: the earlier match wins"}]}
    ]}"#;

    fn first_message(steps: Option<&[Action]>) -> Option<String> {
        match steps?.first()? {
            Action::Message(m) => Some(m.clone()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn selects_by_match_then_position() {
        let s = Scenario::parse(SCENARIO).unwrap();
        let table = [
            ("hello", 0, Some("zero")),
            ("please deploy", 0, Some("deploying")),
            ("hello", 1, Some("one")),
            ("please deploy", 5, Some("deploying")),
            ("hello", 2, None),
        ];
        for (text, n, want) in table {
            assert_eq!(first_message(s.steps_for(text, n)).as_deref(), want, "{text} #{n}");
        }
        assert_eq!(Scenario::default().steps_for("x", 0), None);
    }

    #[test]
    fn rejects_bad_scenarios() {
        for bad in [
            "",
            "[]",
            r#"{"turns": 3}"#,
            r#"{"turns": [{"steps": [{"dance": 1}]}]}"#,
            r#"{"turns": [{"match": "", "steps": []}]}"#,
            r#"{"turns": [{"steps": []}], "extra": 1}"#,
            r#"{"turns": [{"mtch": "x", "steps": []}]}"#,
        ] {
            assert!(Scenario::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn load_reports_the_path() {
        let missing = Path::new("/nonexistent/turnstile-scenario.json");
        let err = Scenario::load(missing).unwrap_err().to_string();
        assert!(err.contains("/nonexistent/turnstile-scenario.json"), "{err}");
    }
}
