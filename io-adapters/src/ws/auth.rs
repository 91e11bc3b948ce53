//! Websocket auth: Codex's `--ws-auth` modes, checked on the upgrade request before any
//! JSON-RPC (PROTOCOL.md §2).
//!
//! * `capability-token`: the client sends `Authorization: Bearer <token>` with the token kept in
//!   `--ws-token-file`. Only its SHA-256 is held, compared in constant time.
//! * `signed-bearer-token`: the bearer is an HS256 JWT signed with the secret in
//!   `--ws-shared-secret-file` (at least 32 bytes). `exp` is required and `nbf` honoured, both
//!   with `--ws-max-clock-skew-seconds` of slack (30 by default); `--ws-issuer` and
//!   `--ws-audience`, when given, must match `iss` and `aud`.
//!
//! A refused upgrade is answered `401` with Codex's message as the body. The health endpoints
//! need no token. Secret files must be absolute paths; they are read once, at startup, and
//! surrounding whitespace is trimmed.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use data_encoding::BASE64URL_NOPAD;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Default for `--ws-max-clock-skew-seconds`.
pub const DEFAULT_MAX_CLOCK_SKEW_SECONDS: u64 = 30;

/// Shortest shared secret accepted for signed bearer tokens.
const MIN_SHARED_SECRET_BYTES: usize = 32;

const INVALID_AUTHORIZATION_HEADER: &str = "invalid authorization header";

/// The `--ws-*` options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct WsAuthArgs {
    /// Websocket auth mode: clients must send `Authorization: Bearer <token>` on the upgrade.
    #[arg(long = "ws-auth", global = true, value_name = "MODE", value_enum)]
    pub ws_auth: Option<WsAuthMode>,

    /// Absolute path to the capability-token file (with `--ws-auth capability-token`).
    #[arg(long = "ws-token-file", global = true, value_name = "PATH")]
    pub ws_token_file: Option<PathBuf>,

    /// Absolute path to the shared secret for signed JWT bearer tokens (with `--ws-auth
    /// signed-bearer-token`; at least 32 bytes).
    #[arg(long = "ws-shared-secret-file", global = true, value_name = "PATH")]
    pub ws_shared_secret_file: Option<PathBuf>,

    /// Expected `iss` of signed JWT bearer tokens.
    #[arg(long = "ws-issuer", global = true, value_name = "ISSUER")]
    pub ws_issuer: Option<String>,

    /// Expected `aud` of signed JWT bearer tokens.
    #[arg(long = "ws-audience", global = true, value_name = "AUDIENCE")]
    pub ws_audience: Option<String>,

    /// Clock skew allowed when checking `exp` and `nbf` of signed JWT bearer tokens (default 30).
    #[arg(long = "ws-max-clock-skew-seconds", global = true, value_name = "SECONDS")]
    pub ws_max_clock_skew_seconds: Option<u64>,
}

/// `--ws-auth` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WsAuthMode {
    /// A fixed token read from `--ws-token-file`.
    CapabilityToken,
    /// HS256 JWTs signed with the secret in `--ws-shared-secret-file`.
    SignedBearerToken,
}

/// How upgrade requests are authorized (the secrets already read).
#[derive(Clone, PartialEq, Eq)]
pub enum WsAuth {
    /// The bearer's SHA-256 must equal this one.
    CapabilityToken {
        /// SHA-256 of the token.
        token_sha256: [u8; 32],
    },
    /// The bearer must be an HS256 JWT signed with `secret`, with valid claims.
    SignedBearerToken {
        /// The shared secret.
        secret: Vec<u8>,
        /// Required `iss`.
        issuer: Option<String>,
        /// Required `aud` (or one of them).
        audience: Option<String>,
        /// Slack for `exp` and `nbf`, in seconds.
        max_clock_skew_seconds: i64,
    },
}

impl std::fmt::Debug for WsAuth {
    // Secrets stay out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WsAuth::CapabilityToken { .. } => f.write_str("WsAuth::CapabilityToken"),
            WsAuth::SignedBearerToken { issuer, audience, max_clock_skew_seconds, .. } => f
                .debug_struct("WsAuth::SignedBearerToken")
                .field("issuer", issuer)
                .field("audience", audience)
                .field("max_clock_skew_seconds", max_clock_skew_seconds)
                .finish_non_exhaustive(),
        }
    }
}

impl WsAuthArgs {
    /// Checks the combination of options and reads the secret: `None` without `--ws-auth`.
    /// The errors are Codex's startup messages.
    pub fn resolve(&self) -> Result<Option<WsAuth>, String> {
        let normalize =
            |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        let signed_only = self.ws_shared_secret_file.is_some()
            || self.ws_issuer.is_some()
            || self.ws_audience.is_some()
            || self.ws_max_clock_skew_seconds.is_some();
        match self.ws_auth {
            None if signed_only || self.ws_token_file.is_some() => Err(
                "websocket auth flags require `--ws-auth capability-token` or `--ws-auth signed-bearer-token`".into(),
            ),
            None => Ok(None),
            Some(WsAuthMode::CapabilityToken) => {
                if signed_only {
                    return Err("`--ws-shared-secret-file`, `--ws-issuer`, `--ws-audience`, and `--ws-max-clock-skew-seconds` require `--ws-auth signed-bearer-token`".into());
                }
                let file = self
                    .ws_token_file
                    .as_deref()
                    .ok_or("`--ws-token-file` is required when `--ws-auth capability-token` is set")?;
                let token = read_secret("--ws-token-file", file)?;
                Ok(Some(WsAuth::CapabilityToken { token_sha256: Sha256::digest(token.as_bytes()).into() }))
            }
            Some(WsAuthMode::SignedBearerToken) => {
                if self.ws_token_file.is_some() {
                    return Err(
                        "`--ws-token-file` requires `--ws-auth capability-token`, not `signed-bearer-token`".into()
                    );
                }
                let file = self
                    .ws_shared_secret_file
                    .as_deref()
                    .ok_or("`--ws-shared-secret-file` is required when `--ws-auth signed-bearer-token` is set")?;
                let secret = read_secret("--ws-shared-secret-file", file)?.into_bytes();
                if secret.len() < MIN_SHARED_SECRET_BYTES {
                    return Err(format!(
                        "signed websocket bearer secret {} must be at least {MIN_SHARED_SECRET_BYTES} bytes",
                        file.display()
                    ));
                }
                let skew = self.ws_max_clock_skew_seconds.unwrap_or(DEFAULT_MAX_CLOCK_SKEW_SECONDS);
                Ok(Some(WsAuth::SignedBearerToken {
                    secret,
                    issuer: normalize(&self.ws_issuer),
                    audience: normalize(&self.ws_audience),
                    max_clock_skew_seconds: i64::try_from(skew)
                        .map_err(|_| "websocket auth clock skew must fit in a signed 64-bit integer")?,
                }))
            }
        }
    }
}

fn read_secret(flag: &str, path: &Path) -> Result<String, String> {
    if !path.is_absolute() {
        return Err(format!("{flag} must be an absolute path"));
    }
    let raw = std::fs::read_to_string(path)
        .map_err(|e| format!("failed to read websocket auth secret {}: {e}", path.display()))?;
    match raw.trim() {
        "" => Err(format!("websocket auth secret {} must not be empty", path.display())),
        secret => Ok(secret.to_owned()),
    }
}

/// The claims of a signed bearer token that are checked.
#[derive(Deserialize)]
struct Claims {
    exp: i64,
    nbf: Option<i64>,
    iss: Option<String>,
    aud: Option<Audience>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct JwtHeader {
    alg: String,
}

impl WsAuth {
    /// Whether an upgrade carrying `authorization` (the header's value, if any) may proceed at
    /// `now` (Unix seconds); the error is the body of the `401`.
    pub fn authorize(&self, authorization: Option<&[u8]>, now: i64) -> Result<(), &'static str> {
        let token = bearer_token(authorization)?;
        match self {
            WsAuth::CapabilityToken { token_sha256 } => {
                let actual: [u8; 32] = Sha256::digest(token.as_bytes()).into();
                // Constant time: every byte is compared whatever the first difference.
                let difference = actual.iter().zip(token_sha256).fold(0u8, |acc, (a, b)| acc | (a ^ b));
                if difference == 0 {
                    Ok(())
                } else {
                    Err("invalid websocket bearer token")
                }
            }
            WsAuth::SignedBearerToken { secret, issuer, audience, max_clock_skew_seconds: skew } => {
                let claims = verify_jwt(token, secret).ok_or("invalid websocket jwt")?;
                if now > claims.exp.saturating_add(*skew) {
                    return Err("expired websocket jwt");
                }
                if claims.nbf.is_some_and(|nbf| now < nbf.saturating_sub(*skew)) {
                    return Err("websocket jwt is not valid yet");
                }
                if issuer.as_ref().is_some_and(|want| claims.iss.as_ref() != Some(want)) {
                    return Err("websocket jwt issuer mismatch");
                }
                if let Some(want) = audience {
                    let matches = match &claims.aud {
                        Some(Audience::One(aud)) => aud == want,
                        Some(Audience::Many(auds)) => auds.contains(want),
                        None => false,
                    };
                    if !matches {
                        return Err("websocket jwt audience mismatch");
                    }
                }
                Ok(())
            }
        }
    }
}

/// The token of `Bearer <token>` (scheme case-insensitive, token trimmed and not empty).
fn bearer_token(authorization: Option<&[u8]>) -> Result<&str, &'static str> {
    let raw = authorization.ok_or("missing websocket bearer token")?;
    let header = std::str::from_utf8(raw).map_err(|_| INVALID_AUTHORIZATION_HEADER)?;
    let (scheme, token) = header.split_once(' ').ok_or(INVALID_AUTHORIZATION_HEADER)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("Bearer") || token.is_empty() {
        return Err(INVALID_AUTHORIZATION_HEADER);
    }
    Ok(token)
}

/// The claims of `token` if it is an HS256 JWT whose signature `secret` verifies.
fn verify_jwt(token: &str, secret: &[u8]) -> Option<Claims> {
    let mut parts = token.split('.');
    let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    // The signature covers `header.payload` as sent.
    let signed = &token.as_bytes()[..header.len() + 1 + payload.len()];
    let header: JwtHeader = serde_json::from_slice(&BASE64URL_NOPAD.decode(header.as_bytes()).ok()?).ok()?;
    if header.alg != "HS256" {
        return None;
    }
    let signature = BASE64URL_NOPAD.decode(signature.as_bytes()).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).ok()?;
    mac.update(signed);
    mac.verify_slice(&signature).ok()?;
    serde_json::from_slice(&BASE64URL_NOPAD.decode(payload.as_bytes()).ok()?).ok()
}

#[cfg(test)]
#[path = "auth_tests.rs"]
mod tests;
