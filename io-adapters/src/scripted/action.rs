//! The scripted engine's vocabulary: [`Action`]s, written either as directive lines in the
//! user's text (`/exec ls --output a`) or as scenario steps (`{"exec": {"command": "ls"}}`).
//!
//! Directive syntax: a line whose first non-blank character is `/`; the word after `/` is the
//! directive name and the rest of the line its argument. In TEXT arguments `\n`, `\t` and
//! `\\` stand for a newline, a tab and a backslash. A directive that cannot be understood
//! becomes an [`Action::Invalid`], which the engine answers with an agent message explaining
//! the problem (it never fails the turn).

use serde::Deserialize;

/// One thing the scripted engine does in a turn.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Action {
    /// `/message TEXT`: an `agentMessage` streamed in ~3-word deltas.
    Message(String),
    /// `/reasoning TEXT`: a `reasoning` item with summary deltas; a blank line (`\n\n`) starts a
    /// new summary part.
    Reasoning(String),
    /// `/plan TEXT`: a `plan` item streamed with plan deltas.
    Plan(String),
    /// `/exec CMD [--exit N] [--output TEXT] [--duration MS]`: a `commandExecution` item.
    Exec(ExecSpec),
    /// `/patch PATH [add|update|delete] [--diff TEXT]`: a `fileChange` item.
    Patch(PatchSpec),
    /// `/sleep MS`: wait (real time) before the next step.
    Sleep(u64),
    /// `/fail [TEXT]`: the turn fails with this error; later steps are not run.
    Fail(String),
    /// `/retry [TEXT]`: a transient error the engine "retries" (`error` with `willRetry`).
    Retry(String),
    /// `/warn [TEXT]`: a `warning` notification.
    Warn(String),
    /// `/usage IN OUT`: the turn's token usage (instead of counts derived from text lengths).
    Usage(UsageSpec),
    /// A directive that could not be understood; answered with this agent message.
    #[serde(skip_deserializing)]
    Invalid(String),
}

/// A scripted command execution.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExecSpec {
    /// The command line shown to the client.
    pub command: String,
    /// Its output (streamed line by line).
    #[serde(default)]
    pub output: String,
    /// Exit code; non-zero makes the item `failed`.
    #[serde(default)]
    pub exit_code: i32,
    /// Reported duration.
    #[serde(default)]
    pub duration_ms: i64,
}

/// A scripted file change.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchSpec {
    /// The file.
    pub path: String,
    /// What happens to it.
    #[serde(default)]
    pub kind: PatchKind,
    /// The diff (or whole content for add/delete); a small placeholder when absent.
    #[serde(default)]
    pub diff: Option<String>,
}

/// What a patch does to its file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PatchKind {
    /// Creates the file.
    Add,
    /// Changes the file.
    #[default]
    Update,
    /// Removes the file.
    Delete,
}

/// Explicit token counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageSpec {
    /// Input tokens.
    pub input: i64,
    /// Output tokens.
    pub output: i64,
}

/// Names of the directives, for help texts.
pub const DIRECTIVES: &[&str] =
    &["/message", "/reasoning", "/plan", "/exec", "/patch", "/sleep", "/fail", "/retry", "/warn", "/usage"];

/// The directives in `text`, or `None` when no line is a directive (ordinary lines are
/// ignored once there is at least one directive).
pub fn parse_directives(text: &str) -> Option<Vec<Action>> {
    let actions: Vec<Action> =
        text.lines().map(str::trim).filter(|l| l.starts_with('/')).map(parse_directive).collect();
    (!actions.is_empty()).then_some(actions)
}

/// Parses one directive line (starting with `/`).
pub fn parse_directive(line: &str) -> Action {
    let line = line.trim();
    let body = line.strip_prefix('/').unwrap_or(line);
    let (name, rest) = match body.split_once(char::is_whitespace) {
        Some((name, rest)) => (name, rest.trim()),
        None => (body, ""),
    };
    let invalid = |usage: &str| Action::Invalid(format!("Invalid directive `{line}`: expected `{usage}`."));
    let text_or = |default: &str| {
        if rest.is_empty() {
            default.to_owned()
        } else {
            unescape(rest)
        }
    };
    match name {
        "message" | "reasoning" | "plan" if rest.is_empty() => invalid(&format!("/{name} TEXT")),
        "message" => Action::Message(unescape(rest)),
        "reasoning" => Action::Reasoning(unescape(rest)),
        "plan" => Action::Plan(unescape(rest)),
        "fail" => Action::Fail(text_or("Scripted failure.")),
        "retry" => Action::Retry(text_or("Scripted transient error; retrying.")),
        "warn" => Action::Warn(text_or("Scripted warning.")),
        "sleep" => match rest.parse() {
            Ok(ms) => Action::Sleep(ms),
            Err(_) => invalid("/sleep MS"),
        },
        "usage" => {
            let numbers: Vec<Option<i64>> = rest.split_whitespace().map(|n| n.parse().ok()).collect();
            match numbers.as_slice() {
                [Some(input), Some(output)] if *input >= 0 && *output >= 0 => {
                    Action::Usage(UsageSpec { input: *input, output: *output })
                }
                _ => invalid("/usage IN OUT"),
            }
        }
        "exec" => parse_exec(rest)
            .unwrap_or_else(|| invalid("/exec CMD [--exit N] [--output TEXT] [--duration MS]")),
        "patch" => {
            parse_patch(rest).unwrap_or_else(|| invalid("/patch PATH [add|update|delete] [--diff TEXT]"))
        }
        _ => Action::Invalid(format!(
            "Unknown directive `/{name}`. Known directives: {}.",
            DIRECTIVES.join(", ")
        )),
    }
}

/// `--flag` names with their values, in the order given.
type FlagValues = Vec<(&'static str, String)>;

/// Splits `args` into leading words and `--flag value…` groups; a flag's value runs until
/// the next known flag.
fn split_flags<'a>(args: &'a str, flags: &[&'static str]) -> Option<(Vec<&'a str>, FlagValues)> {
    let mut head = Vec::new();
    let mut groups: Vec<(&'static str, Vec<&'a str>)> = Vec::new();
    for word in args.split_whitespace() {
        if let Some(flag) = flags.iter().copied().find(|f| *f == word) {
            if groups.iter().any(|(f, _)| *f == flag) {
                return None;
            }
            groups.push((flag, Vec::new()));
        } else if let Some((_, values)) = groups.last_mut() {
            values.push(word);
        } else {
            head.push(word);
        }
    }
    Some((head, groups.into_iter().map(|(f, v)| (f, v.join(" "))).collect()))
}

fn parse_exec(args: &str) -> Option<Action> {
    let (command, flags) = split_flags(args, &["--exit", "--output", "--duration"])?;
    if command.is_empty() {
        return None;
    }
    let mut spec =
        ExecSpec { command: command.join(" "), output: String::new(), exit_code: 0, duration_ms: 0 };
    for (flag, value) in flags {
        match flag {
            "--exit" => spec.exit_code = value.parse().ok()?,
            "--duration" => spec.duration_ms = value.parse().ok().filter(|d: &i64| *d >= 0)?,
            _ => spec.output = unescape(&value),
        }
    }
    Some(Action::Exec(spec))
}

fn parse_patch(args: &str) -> Option<Action> {
    let (head, flags) = split_flags(args, &["--diff"])?;
    let (path, kind) = match head.as_slice() {
        [path] => (*path, PatchKind::Update),
        [path, "add"] => (*path, PatchKind::Add),
        [path, "update"] => (*path, PatchKind::Update),
        [path, "delete"] => (*path, PatchKind::Delete),
        _ => return None,
    };
    Some(Action::Patch(PatchSpec {
        path: path.to_owned(),
        kind,
        diff: flags.into_iter().next().map(|(_, d)| unescape(&d)),
    }))
}

/// Replaces `\n`, `\t` and `\\` with what they stand for; other backslashes are kept.
pub fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exec(command: &str, output: &str, exit_code: i32, duration_ms: i64) -> Action {
        Action::Exec(ExecSpec { command: command.into(), output: output.into(), exit_code, duration_ms })
    }

    #[test]
    fn parses_directives() {
        let table: Vec<(&str, Action)> = vec![
            ("/message hi there", Action::Message("hi there".into())),
            ("  /message a\\nb", Action::Message("a\nb".into())),
            ("/reasoning think", Action::Reasoning("think".into())),
            ("/plan 1. do it", Action::Plan("1. do it".into())),
            ("/sleep 250", Action::Sleep(250)),
            ("/fail boom", Action::Fail("boom".into())),
            ("/fail", Action::Fail("Scripted failure.".into())),
            ("/retry slow down", Action::Retry("slow down".into())),
            ("/warn careful", Action::Warn("careful".into())),
            ("/usage 10 20", Action::Usage(UsageSpec { input: 10, output: 20 })),
            ("/exec ls -la", exec("ls -la", "", 0, 0)),
            (
                "/exec cargo test --exit 101 --output failed\\n --duration 7",
                exec("cargo test", "failed\n", 101, 7),
            ),
            ("/exec echo --output a  b", exec("echo", "a b", 0, 0)),
            (
                "/patch src/lib.rs",
                Action::Patch(PatchSpec { path: "src/lib.rs".into(), kind: PatchKind::Update, diff: None }),
            ),
            (
                "/patch new.txt add --diff hello\\n",
                Action::Patch(PatchSpec {
                    path: "new.txt".into(),
                    kind: PatchKind::Add,
                    diff: Some("hello\n".into()),
                }),
            ),
        ];
        for (line, want) in table {
            assert_eq!(parse_directive(line), want, "{line}");
        }
    }

    #[test]
    fn bad_directives_become_explanations() {
        let table = [
            ("/sleep soon", "Invalid directive `/sleep soon`: expected `/sleep MS`."),
            ("/message", "Invalid directive `/message`: expected `/message TEXT`."),
            ("/usage 1", "Invalid directive `/usage 1`: expected `/usage IN OUT`."),
            ("/usage -1 2", "Invalid directive `/usage -1 2`: expected `/usage IN OUT`."),
            ("/exec --exit 1", "Invalid directive"),
            ("/exec ls --exit x", "Invalid directive"),
            ("/exec ls --exit 1 --exit 2", "Invalid directive"),
            ("/patch a b", "Invalid directive"),
            ("/patch", "Invalid directive"),
            ("/dance now", "Unknown directive `/dance`. Known directives: /message,"),
            ("/", "Unknown directive `/`."),
        ];
        for (line, want) in table {
            match parse_directive(line) {
                Action::Invalid(msg) => assert!(msg.starts_with(want), "{line}: {msg}"),
                other => panic!("{line}: {other:?}"),
            }
        }
    }

    #[test]
    fn ordinary_text_has_no_directives() {
        assert_eq!(parse_directives("hello\nworld"), None);
        assert_eq!(
            parse_directives("intro line\n/message one\nignored\n/sleep 5"),
            Some(vec![Action::Message("one".into()), Action::Sleep(5)])
        );
    }

    #[test]
    fn unescapes() {
        let table =
            [("a\\nb", "a\nb"), ("t\\tx", "t\tx"), ("\\\\n", "\\n"), ("\\q", "\\q"), ("end\\", "end\\")];
        for (input, want) in table {
            assert_eq!(unescape(input), want, "{input}");
        }
    }

    #[test]
    fn scenario_steps_deserialize() {
        let steps: Vec<Action> = serde_json::from_str(
            r#"[{"message":"hi"},{"sleep":500},
                {"exec":{"command":"ls","output":"a\n","exitCode":2}},
                {"patch":{"path":"x","kind":"delete"}},
                {"usage":{"input":1,"output":2}},{"fail":"no"}]"#,
        )
        .unwrap();
        assert_eq!(steps[0], Action::Message("hi".into()));
        assert_eq!(steps[1], Action::Sleep(500));
        assert_eq!(steps[2], exec("ls", "a\n", 2, 0));
        assert!(matches!(&steps[3], Action::Patch(p) if p.kind == PatchKind::Delete));
        assert_eq!(steps[5], Action::Fail("no".into()));
        assert!(serde_json::from_str::<Action>(r#"{"invalid":"x"}"#).is_err());
        assert!(serde_json::from_str::<Action>(r#"{"exec":{"cmd":"x"}}"#).is_err());
    }
}
