//! The scripted engine's vocabulary: [`Action`]s, written either as directive lines in the
//! user's text (`/exec ls --output a`) or as scenario steps (`{"exec": {"command": "ls"}}`).
//!
//! Directive syntax: a line whose first non-blank character is `/`; the word after `/` is the
//! directive name and the rest of the line its argument. In TEXT arguments `\n`, `\t` and
//! `\\` stand for a newline, a tab and a backslash. A directive that cannot be understood
//! becomes an [`Action::Invalid`], which the engine answers with an agent message explaining
//! the problem (it never fails the turn).
//!
//! The request directives (`/approve-exec`, `/approve-patch`, `/permissions`, `/ask`, `/tool`,
//! `/elicit`, `/network`, `/auth-refresh`) make the engine ask a client something through the
//! machine and wait for the answer; consecutive `/ask` lines form one request.

use core_sm::wire::server_requests::{
    CommandDecision, NetworkPolicyAction, NetworkPolicyAmendment, NetworkProtocol,
};
use serde::Deserialize;
use serde_json::Value;

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
    /// `/approve-exec CMD ...`: a command that runs only if a client approves it.
    ApproveExec(ApproveExecSpec),
    /// `/approve-patch PATH ...`: a file change applied only if a client approves it.
    ApprovePatch(ApprovePatchSpec),
    /// `/permissions ...`: ask for more filesystem or network permissions.
    Permissions(PermissionsSpec),
    /// `/ask QUESTION ...` (consecutive lines form one request): ask the user questions.
    Ask(AskSpec),
    /// `/tool NAME [JSON] ...`: call a client-implemented dynamic tool.
    Tool(ToolSpec),
    /// `/elicit form|url ...`: an MCP server's elicitation.
    Elicit(ElicitSpec),
    /// `/network HOST:PORT ...`: network attempts the managed network policy must allow.
    Network(NetworkSpec),
    /// `/auth-refresh [ACCOUNT]`: ask clients for fresh ChatGPT tokens.
    AuthRefresh(AuthRefreshSpec),
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

/// A command that needs approval (`item/commandExecution/requestApproval`); it runs like
/// [`ExecSpec`] once accepted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApproveExecSpec {
    /// The command line shown to the client.
    pub command: String,
    /// Its output, if it runs.
    #[serde(default)]
    pub output: String,
    /// Its exit code, if it runs.
    #[serde(default)]
    pub exit_code: i32,
    /// Its reported duration, if it runs.
    #[serde(default)]
    pub duration_ms: i64,
    /// Why approval is needed.
    #[serde(default)]
    pub reason: Option<String>,
    /// The decisions to offer (`availableDecisions`); the machine's default list when absent.
    #[serde(default)]
    pub decisions: Option<Vec<CommandDecision>>,
    /// The proposed exec-policy prefix (`proposedExecpolicyAmendment`).
    #[serde(default)]
    pub amend: Option<Vec<String>>,
}

impl ApproveExecSpec {
    /// What runs once the command is approved.
    pub fn exec(&self) -> ExecSpec {
        ExecSpec {
            command: self.command.clone(),
            output: self.output.clone(),
            exit_code: self.exit_code,
            duration_ms: self.duration_ms,
        }
    }
}

/// A file change that needs approval (`item/fileChange/requestApproval`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApprovePatchSpec {
    /// The file.
    pub path: String,
    /// What happens to it.
    #[serde(default)]
    pub kind: PatchKind,
    /// The diff; a small placeholder when absent.
    #[serde(default)]
    pub diff: Option<String>,
    /// Why approval is needed.
    #[serde(default)]
    pub reason: Option<String>,
    /// Session-wide write access requested under this root (`grantRoot`).
    #[serde(default)]
    pub grant_root: Option<String>,
}

impl ApprovePatchSpec {
    /// The change itself.
    pub fn patch(&self) -> PatchSpec {
        PatchSpec { path: self.path.clone(), kind: self.kind, diff: self.diff.clone() }
    }
}

/// A permissions request (`item/permissions/requestApproval`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PermissionsSpec {
    /// Paths to read.
    #[serde(default)]
    pub read: Vec<String>,
    /// Paths to write.
    #[serde(default)]
    pub write: Vec<String>,
    /// Network access.
    #[serde(default)]
    pub network: bool,
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Questions for the user (`item/tool/requestUserInput`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AskSpec {
    /// The questions, in order.
    pub questions: Vec<QuestionSpec>,
}

/// One question.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QuestionSpec {
    /// The question.
    pub question: String,
    /// Its id (answers are keyed by it); `q<N>` (1-based position in the request) when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// Short header; `Question <N>` when absent.
    #[serde(default)]
    pub header: Option<String>,
    /// Option labels; free text when absent.
    #[serde(default)]
    pub options: Option<Vec<String>>,
    /// Offer a free-form "other" answer.
    #[serde(default)]
    pub other: bool,
    /// Mask the answer (the engine's reply does not echo it either).
    #[serde(default)]
    pub secret: bool,
}

/// A dynamic tool call (`item/tool/call`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ToolSpec {
    /// Tool name.
    pub name: String,
    /// Namespace of a namespaced tool.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Arguments (default `{}`).
    #[serde(default = "empty_object")]
    pub arguments: Value,
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

/// The server name elicitations come from unless one is given.
pub const DEFAULT_MCP_SERVER: &str = "scripted-mcp";

/// An MCP elicitation (`mcpServer/elicitation/request`), by mode.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "mode", rename_all = "camelCase", deny_unknown_fields)]
pub enum ElicitSpec {
    /// A form to fill in.
    #[serde(rename_all = "camelCase")]
    Form {
        /// What the server asks.
        message: String,
        /// The MCP server (default [`DEFAULT_MCP_SERVER`]).
        #[serde(default)]
        server: Option<String>,
        /// The form's schema; one required string property `answer` when absent.
        #[serde(default)]
        requested_schema: Option<Value>,
    },
    /// A URL to visit.
    #[serde(rename_all = "camelCase")]
    Url {
        /// What the server asks.
        message: String,
        /// Where to go.
        url: String,
        /// The MCP server (default [`DEFAULT_MCP_SERVER`]).
        #[serde(default)]
        server: Option<String>,
        /// The elicitation id; derived from the turn when absent.
        #[serde(default)]
        elicitation_id: Option<String>,
    },
}

/// Network attempts (`NetworkAttempt` events), all made before any verdict is awaited.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NetworkSpec {
    /// The destinations, in order (`"host:port"` in scenario files).
    pub destinations: Vec<HostPort>,
    /// The protocol of every attempt (default `https`).
    #[serde(default = "https")]
    pub protocol: NetworkProtocol,
}

fn https() -> NetworkProtocol {
    NetworkProtocol::Https
}

/// A `host:port` destination.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct HostPort {
    /// Host.
    pub host: String,
    /// Port.
    pub port: u16,
}

impl TryFrom<String> for HostPort {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        HostPort::parse(&text).ok_or_else(|| format!("expected HOST:PORT, got {text:?}"))
    }
}

impl HostPort {
    /// Parses `host:port` (the port after the last `:`).
    pub fn parse(text: &str) -> Option<Self> {
        let (host, port) = text.rsplit_once(':')?;
        let port = port.parse().ok()?;
        (!host.is_empty() && !host.chars().any(char::is_whitespace))
            .then(|| HostPort { host: host.to_owned(), port })
    }
}

/// A token refresh (`account/chatgptAuthTokens/refresh`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthRefreshSpec {
    /// The account previously in use.
    #[serde(default)]
    pub previous_account_id: Option<String>,
}

/// Names of the directives, for help texts.
pub const DIRECTIVES: &[&str] = &[
    "/message",
    "/reasoning",
    "/plan",
    "/exec",
    "/patch",
    "/sleep",
    "/fail",
    "/retry",
    "/warn",
    "/usage",
    "/approve-exec",
    "/approve-patch",
    "/permissions",
    "/ask",
    "/tool",
    "/elicit",
    "/network",
    "/auth-refresh",
];

const APPROVE_EXEC_USAGE: &str = "/approve-exec CMD [--decisions D,D,...] [--reason TEXT] [--amend PREFIX] \
     [--output TEXT] [--exit N] [--duration MS]";
const APPROVE_PATCH_USAGE: &str =
    "/approve-patch PATH [add|update|delete] [--diff TEXT] [--reason TEXT] [--grant-root PATH]";
const PERMISSIONS_USAGE: &str = "/permissions [--read PATH...] [--write PATH...] [--network] [--reason TEXT]";
const ASK_USAGE: &str = "/ask QUESTION [--id ID] [--header TEXT] [--options A|B|...] [--other] [--secret]";
const TOOL_USAGE: &str = "/tool NAME [JSON-ARGS] [--namespace NS]";
const ELICIT_USAGE: &str =
    "/elicit form MESSAGE [--server NAME]` or `/elicit url MESSAGE URL [--server NAME] [--id ID]";
const NETWORK_USAGE: &str = "/network HOST:PORT... [--protocol http|https|socks5Tcp|socks5Udp]";

/// The directives in `text`, or `None` when no line is a directive (ordinary lines are
/// ignored once there is at least one directive). Consecutive `/ask` lines become one
/// [`Action::Ask`] with several questions.
pub fn parse_directives(text: &str) -> Option<Vec<Action>> {
    let mut actions: Vec<Action> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| l.starts_with('/')) {
        let action = parse_directive(line);
        if let Action::Ask(next) = &action {
            if let Some(Action::Ask(previous)) = actions.last_mut() {
                previous.questions.extend(next.questions.iter().cloned());
                continue;
            }
        }
        actions.push(action);
    }
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
        "approve-exec" => parse_approve_exec(rest).unwrap_or_else(|| invalid(APPROVE_EXEC_USAGE)),
        "approve-patch" => parse_approve_patch(rest).unwrap_or_else(|| invalid(APPROVE_PATCH_USAGE)),
        "permissions" => parse_permissions(rest).unwrap_or_else(|| invalid(PERMISSIONS_USAGE)),
        "ask" => parse_ask(rest).unwrap_or_else(|| invalid(ASK_USAGE)),
        "tool" => parse_tool(rest).unwrap_or_else(|| invalid(TOOL_USAGE)),
        "elicit" => parse_elicit(rest).unwrap_or_else(|| invalid(ELICIT_USAGE)),
        "network" => parse_network(rest).unwrap_or_else(|| invalid(NETWORK_USAGE)),
        "auth-refresh" => match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
            [] => Action::AuthRefresh(AuthRefreshSpec::default()),
            [account] => {
                Action::AuthRefresh(AuthRefreshSpec { previous_account_id: Some((*account).to_owned()) })
            }
            _ => invalid("/auth-refresh [ACCOUNT_ID]"),
        },
        _ => Action::Invalid(format!(
            "Unknown directive `/{name}`. Known directives: {}.",
            DIRECTIVES.join(", ")
        )),
    }
}

/// `--flag` names with their values, in the order given.
type FlagValues = Vec<(&'static str, String)>;

/// Splits `args` into leading words and `--flag value…` groups; a flag's value runs until
/// the next known flag. A flag given twice makes the whole thing invalid (`None`).
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

/// A flag's value that must not be empty.
fn nonempty(value: String) -> Option<String> {
    (!value.is_empty()).then_some(value)
}

/// A flag's value that must be exactly one word.
fn one_word(value: &str) -> Option<String> {
    (!value.is_empty() && !value.contains(' ')).then(|| value.to_owned())
}

/// A switch (a flag without a value).
fn switch(value: &str) -> Option<bool> {
    value.is_empty().then_some(true)
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

fn patch_head<'a>(head: &[&'a str]) -> Option<(&'a str, PatchKind)> {
    Some(match head {
        [path] => (*path, PatchKind::Update),
        [path, "add"] => (*path, PatchKind::Add),
        [path, "update"] => (*path, PatchKind::Update),
        [path, "delete"] => (*path, PatchKind::Delete),
        _ => return None,
    })
}

fn parse_patch(args: &str) -> Option<Action> {
    let (head, flags) = split_flags(args, &["--diff"])?;
    let (path, kind) = patch_head(&head)?;
    Some(Action::Patch(PatchSpec {
        path: path.to_owned(),
        kind,
        diff: flags.into_iter().next().map(|(_, d)| unescape(&d)),
    }))
}

fn parse_approve_exec(args: &str) -> Option<Action> {
    let flags = ["--decisions", "--reason", "--amend", "--output", "--exit", "--duration"];
    let (command, flags) = split_flags(args, &flags)?;
    if command.is_empty() {
        return None;
    }
    let mut spec = ApproveExecSpec {
        command: command.join(" "),
        output: String::new(),
        exit_code: 0,
        duration_ms: 0,
        reason: None,
        decisions: None,
        amend: None,
    };
    let mut decision_names = None;
    for (flag, value) in flags {
        match flag {
            "--exit" => spec.exit_code = value.parse().ok()?,
            "--duration" => spec.duration_ms = value.parse().ok().filter(|d: &i64| *d >= 0)?,
            "--output" => spec.output = unescape(&value),
            "--reason" => spec.reason = Some(unescape(&nonempty(value)?)),
            "--amend" => spec.amend = Some(nonempty(value)?.split(' ').map(str::to_owned).collect()),
            _ => decision_names = Some(nonempty(value)?),
        }
    }
    if let Some(names) = decision_names {
        let prefix = spec.amend.clone().unwrap_or_else(|| command.iter().map(|w| (*w).to_owned()).collect());
        let decisions: Option<Vec<CommandDecision>> =
            names.split(',').map(|name| parse_decision(name.trim(), &prefix)).collect();
        spec.decisions = Some(decisions?);
    }
    Some(Action::ApproveExec(spec))
}

/// A decision name of `--decisions`: the wire names, with `acceptWithExecpolicyAmendment`
/// taking `prefix`, and `allow:HOST` / `deny:HOST` for `applyNetworkPolicyAmendment`.
fn parse_decision(name: &str, prefix: &[String]) -> Option<CommandDecision> {
    let amendment = |host: &str, action| {
        one_word(host).map(|host| CommandDecision::ApplyNetworkPolicyAmendment {
            network_policy_amendment: NetworkPolicyAmendment { host, action },
        })
    };
    match name {
        "accept" => Some(CommandDecision::Accept),
        "acceptForSession" => Some(CommandDecision::AcceptForSession),
        "acceptWithExecpolicyAmendment" => {
            Some(CommandDecision::AcceptWithExecpolicyAmendment { execpolicy_amendment: prefix.to_vec() })
        }
        "decline" => Some(CommandDecision::Decline),
        "cancel" => Some(CommandDecision::Cancel),
        _ => match name.split_once(':') {
            Some(("allow", host)) => amendment(host, NetworkPolicyAction::Allow),
            Some(("deny", host)) => amendment(host, NetworkPolicyAction::Deny),
            _ => None,
        },
    }
}

fn parse_approve_patch(args: &str) -> Option<Action> {
    let (head, flags) = split_flags(args, &["--diff", "--reason", "--grant-root"])?;
    let (path, kind) = patch_head(&head)?;
    let mut spec =
        ApprovePatchSpec { path: path.to_owned(), kind, diff: None, reason: None, grant_root: None };
    for (flag, value) in flags {
        match flag {
            "--diff" => spec.diff = Some(unescape(&value)),
            "--reason" => spec.reason = Some(unescape(&nonempty(value)?)),
            _ => spec.grant_root = Some(one_word(&value)?),
        }
    }
    Some(Action::ApprovePatch(spec))
}

fn parse_permissions(args: &str) -> Option<Action> {
    let (head, flags) = split_flags(args, &["--read", "--write", "--network", "--reason"])?;
    if !head.is_empty() {
        return None;
    }
    let mut spec = PermissionsSpec::default();
    let paths = |value: String| -> Option<Vec<String>> {
        Some(nonempty(value)?.split(' ').map(str::to_owned).collect())
    };
    for (flag, value) in flags {
        match flag {
            "--read" => spec.read = paths(value)?,
            "--write" => spec.write = paths(value)?,
            "--network" => spec.network = switch(&value)?,
            _ => spec.reason = Some(unescape(&nonempty(value)?)),
        }
    }
    let asks_something = !spec.read.is_empty() || !spec.write.is_empty() || spec.network;
    asks_something.then_some(Action::Permissions(spec))
}

fn parse_ask(args: &str) -> Option<Action> {
    let flags = ["--id", "--header", "--options", "--other", "--secret"];
    let (head, flags) = split_flags(args, &flags)?;
    if head.is_empty() {
        return None;
    }
    let mut question = QuestionSpec {
        question: unescape(&head.join(" ")),
        id: None,
        header: None,
        options: None,
        other: false,
        secret: false,
    };
    for (flag, value) in flags {
        match flag {
            "--id" => question.id = Some(one_word(&value)?),
            "--header" => question.header = Some(unescape(&nonempty(value)?)),
            "--options" => {
                let labels: Vec<String> = value.split('|').map(|l| unescape(l.trim())).collect();
                if labels.iter().any(String::is_empty) {
                    return None;
                }
                question.options = Some(labels);
            }
            "--other" => question.other = switch(&value)?,
            _ => question.secret = switch(&value)?,
        }
    }
    Some(Action::Ask(AskSpec { questions: vec![question] }))
}

/// Splits `args` at a standalone `flag` word, keeping the text before it verbatim (JSON may
/// hold runs of spaces). Returns the text before and the (trimmed) text after, if present.
fn split_at_word<'a>(args: &'a str, flag: &str) -> (&'a str, Option<&'a str>) {
    let standalone = |at: usize| {
        let before = args[..at].chars().next_back().is_none_or(char::is_whitespace);
        let after = args[at + flag.len()..].chars().next().is_none_or(char::is_whitespace);
        before && after
    };
    match args.match_indices(flag).map(|(at, _)| at).find(|at| standalone(*at)) {
        Some(at) => (args[..at].trim(), Some(args[at + flag.len()..].trim())),
        None => (args.trim(), None),
    }
}

fn parse_tool(args: &str) -> Option<Action> {
    let (main, namespace) = split_at_word(args, "--namespace");
    let namespace = match namespace {
        Some(ns) => Some(one_word(ns).filter(|ns| !ns.contains(char::is_whitespace))?),
        None => None,
    };
    let (name, json) = match main.split_once(char::is_whitespace) {
        Some((name, json)) => (name, json.trim()),
        None => (main, ""),
    };
    if name.is_empty() || name.starts_with("--") {
        return None;
    }
    let arguments = if json.is_empty() { empty_object() } else { serde_json::from_str(json).ok()? };
    Some(Action::Tool(ToolSpec { name: name.to_owned(), namespace, arguments }))
}

fn parse_elicit(args: &str) -> Option<Action> {
    let (head, flags) = split_flags(args, &["--server", "--id"])?;
    let mut server = None;
    let mut id = None;
    for (flag, value) in flags {
        match flag {
            "--server" => server = Some(one_word(&value)?),
            _ => id = Some(one_word(&value)?),
        }
    }
    let spec = match head.as_slice() {
        ["form", message @ ..] if !message.is_empty() && id.is_none() => {
            ElicitSpec::Form { message: unescape(&message.join(" ")), server, requested_schema: None }
        }
        ["url", message @ .., url] if !message.is_empty() => ElicitSpec::Url {
            message: unescape(&message.join(" ")),
            url: (*url).to_owned(),
            server,
            elicitation_id: id,
        },
        _ => return None,
    };
    Some(Action::Elicit(spec))
}

fn parse_network(args: &str) -> Option<Action> {
    let (head, flags) = split_flags(args, &["--protocol"])?;
    let destinations: Vec<HostPort> = head.iter().map(|d| HostPort::parse(d)).collect::<Option<_>>()?;
    if destinations.is_empty() {
        return None;
    }
    let protocol = match flags.first().map(|(_, p)| p.as_str()) {
        None | Some("https") => NetworkProtocol::Https,
        Some("http") => NetworkProtocol::Http,
        Some("socks5Tcp" | "socks5-tcp") => NetworkProtocol::Socks5Tcp,
        Some("socks5Udp" | "socks5-udp") => NetworkProtocol::Socks5Udp,
        Some(_) => return None,
    };
    Some(Action::Network(NetworkSpec { destinations, protocol }))
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
#[path = "action_tests.rs"]
mod tests;
