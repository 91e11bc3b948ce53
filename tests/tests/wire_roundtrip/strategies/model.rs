//! Strategies for the conversation model (`core_sm::wire` model types): threads and their
//! status and source, turns and turn errors (with `CodexErrorInfo`), token usage, and the
//! `UserInput` a client sends (one strategy per variant, plus their union).

use core_sm::wire::{
    SessionSource, Thread, ThreadActiveFlag, ThreadHistoryMode, ThreadStatus, ThreadTokenUsage,
    TokenUsageBreakdown, Turn, TurnError, TurnItemsView, TurnStatus, UserInput,
};
use proptest::collection::vec;
use proptest::option::of as opt;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use proptest::strategy::Union;
use serde_json::{json, Value};

use super::item::thread_item;
use super::leaf::{duration_ms, path, secs, text, thread_id, turn_id, url, word};

pub fn thread_active_flags() -> impl Strategy<Value = Vec<ThreadActiveFlag>> {
    // Sent ordered and without duplicates; `subsequence` keeps that order.
    subsequence(vec![ThreadActiveFlag::WaitingOnApproval, ThreadActiveFlag::WaitingOnUserInput], 0..=2)
}

pub fn thread_status() -> impl Strategy<Value = ThreadStatus> {
    prop_oneof![
        Just(ThreadStatus::NotLoaded),
        Just(ThreadStatus::Idle),
        Just(ThreadStatus::SystemError),
        thread_active_flags().prop_map(|active_flags| ThreadStatus::Active { active_flags }),
    ]
}

pub fn session_source() -> impl Strategy<Value = SessionSource> {
    select(all_variants!(SessionSource: Cli, Vscode, Exec, AppServer, Unknown))
}

/// `CodexErrorInfo`: a bare kind or one of the HTTP-status-carrying objects.
pub fn codex_error_info() -> BoxedStrategy<Value> {
    let kinds = vec![
        "contextWindowExceeded",
        "usageLimitExceeded",
        "serverOverloaded",
        "internalServerError",
        "unauthorized",
        "badRequest",
        "sandboxError",
        "other",
    ];
    prop_oneof![
        select(kinds).prop_map(Value::from),
        (
            select(vec![
                "httpConnectionFailed",
                "responseStreamConnectionFailed",
                "responseStreamDisconnected"
            ]),
            opt(400u16..600),
        )
            .prop_map(|(k, code)| json!({ k: {"httpStatusCode": code} })),
    ]
    .boxed()
}

pub fn turn_error() -> impl Strategy<Value = TurnError> {
    (text(), opt(codex_error_info()), opt(text())).prop_map(
        |(message, codex_error_info, additional_details)| TurnError {
            message,
            codex_error_info,
            additional_details,
        },
    )
}

pub fn breakdown() -> impl Strategy<Value = TokenUsageBreakdown> {
    let n = || 0i64..10_000_000;
    (n(), n(), n(), n(), n(), n()).prop_map(|(total, input, cached, cache_write, output, reasoning)| {
        TokenUsageBreakdown {
            total_tokens: total,
            input_tokens: input,
            cached_input_tokens: cached,
            cache_write_input_tokens: cache_write,
            output_tokens: output,
            reasoning_output_tokens: reasoning,
        }
    })
}

pub fn token_usage() -> impl Strategy<Value = ThreadTokenUsage> {
    (breakdown(), breakdown(), opt(1_000i64..2_000_000)).prop_map(|(total, last, model_context_window)| {
        ThreadTokenUsage { total, last, model_context_window }
    })
}

pub fn image_detail() -> impl Strategy<Value = Option<String>> {
    opt(select(vec!["auto", "low", "high", "original"]).prop_map(str::to_owned))
}

/// `TextElement`: a byte range in the text, optionally with a placeholder.
pub fn text_element() -> impl Strategy<Value = Value> {
    (0u32..64, 0u32..64, opt(text())).prop_map(|(a, b, placeholder)| {
        let mut e = json!({"byteRange": {"start": a.min(b), "end": a.max(b)}});
        if let Some(p) = placeholder {
            e["placeholder"] = json!(p);
        }
        e
    })
}

/// A URL, a file id, or both: the schema requires at least one of them (`anyOf`), so the
/// strategy never produces neither (which the Rust type can represent).
pub fn url_or_file_id() -> impl Strategy<Value = (Option<String>, Option<String>)> {
    prop_oneof![
        url().prop_map(|u| (Some(u), None)),
        "file-[a-zA-Z0-9]{8}".prop_map(|f| (None, Some(f))),
        (url(), "file-[a-zA-Z0-9]{8}").prop_map(|(u, f)| (Some(u), Some(f))),
    ]
}

pub fn user_input_variants() -> Vec<(&'static str, BoxedStrategy<UserInput>)> {
    vec![
        (
            "text",
            (text(), vec(text_element(), 0..3))
                .prop_map(|(text, text_elements)| UserInput::Text { text, text_elements })
                .boxed(),
        ),
        (
            "image",
            (url_or_file_id(), image_detail())
                .prop_map(|((url, file_id), detail)| UserInput::Image { url, file_id, detail })
                .boxed(),
        ),
        (
            "localImage",
            (path(), image_detail())
                .prop_map(|(path, detail)| UserInput::LocalImage { path, detail })
                .boxed(),
        ),
        ("audio", url_or_file_id().prop_map(|(url, file_id)| UserInput::Audio { url, file_id }).boxed()),
        ("localAudio", path().prop_map(|path| UserInput::LocalAudio { path }).boxed()),
        ("skill", (word(), path()).prop_map(|(name, path)| UserInput::Skill { name, path }).boxed()),
        ("mention", (word(), path()).prop_map(|(name, path)| UserInput::Mention { name, path }).boxed()),
    ]
}

pub fn user_input() -> BoxedStrategy<UserInput> {
    Union::new(user_input_variants().into_iter().map(|(_, s)| s)).boxed()
}

pub fn thread_history_mode() -> impl Strategy<Value = ThreadHistoryMode> {
    select(all_variants!(ThreadHistoryMode: Legacy, Paginated))
}

pub fn turn() -> impl Strategy<Value = Turn> {
    (
        turn_id(),
        vec(thread_item(), 0..3),
        select(all_variants!(TurnItemsView: NotLoaded, Summary, Full)),
        select(all_variants!(TurnStatus: Completed, Interrupted, Failed, InProgress)),
        opt(turn_error()),
        opt(secs()),
        opt(secs()),
        opt(duration_ms()),
        opt(turn_id()),
    )
        .prop_map(
            |(id, items, items_view, status, error, started_at, completed_at, duration_ms, root_turn_id)| {
                Turn {
                    id,
                    items,
                    items_view,
                    status,
                    error,
                    started_at,
                    completed_at,
                    duration_ms,
                    root_turn_id,
                }
            },
        )
}

pub fn thread() -> BoxedStrategy<Thread> {
    let identity = (thread_id(), opt(thread_id()), opt(thread_id()), any::<bool>(), opt(path()));
    let facts = (text(), word(), opt(word()), secs(), 0i64..10_000_000, path(), "0\\.1[0-9]{2}\\.[0-9]");
    let state = (
        session_source(),
        thread_status(),
        vec(turn(), 0..2),
        opt(text()),
        opt(word()),
        opt(word()),
        thread_history_mode(),
    );
    (identity, facts, state)
        .prop_map(
            |(
                (id, parent, forked_from_id, ephemeral, path),
                (preview, model_provider, model, created_at, age, cwd, cli_version),
                (source, status, turns, name, originator, project_id, history_mode),
            )| Thread {
                id,
                // Equal to `id` for top-level threads; sub-agents carry their parent's session.
                session_id: parent.unwrap_or(id),
                preview,
                ephemeral,
                model_provider,
                model,
                created_at,
                updated_at: created_at + age,
                cwd,
                cli_version,
                source,
                status,
                turns,
                path: if ephemeral { None } else { path },
                name,
                originator,
                forked_from_id,
                project_id,
                history_mode,
            },
        )
        .boxed()
}
