use serde_json::{json, Value};

use super::*;

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
const NOW: i64 = 1_764_000_000;

/// An `Authorization` header (if any) and the verdict on it.
type Case<'a> = (Option<&'a [u8]>, Result<(), &'a str>);

fn sign(header: &Value, claims: &Value, secret: &[u8]) -> String {
    let header = BASE64URL_NOPAD.encode(header.to_string().as_bytes());
    let claims = BASE64URL_NOPAD.encode(claims.to_string().as_bytes());
    let payload = format!("{header}.{claims}");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(payload.as_bytes());
    format!("{payload}.{}", BASE64URL_NOPAD.encode(&mac.finalize().into_bytes()))
}

fn jwt(claims: Value) -> String {
    sign(&json!({"alg": "HS256", "typ": "JWT"}), &claims, SECRET)
}

fn signed(issuer: Option<&str>, audience: Option<&str>) -> WsAuth {
    WsAuth::SignedBearerToken {
        secret: SECRET.to_vec(),
        issuer: issuer.map(str::to_owned),
        audience: audience.map(str::to_owned),
        max_clock_skew_seconds: 30,
    }
}

fn bearer(token: &str) -> Vec<u8> {
    format!("Bearer {token}").into_bytes()
}

#[test]
fn capability_tokens() {
    let auth = WsAuth::CapabilityToken { token_sha256: Sha256::digest(b"s3cret").into() };
    let table: &[Case] = &[
        (Some(b"Bearer s3cret"), Ok(())),
        (Some(b"bearer   s3cret  "), Ok(())),
        (Some(b"Bearer s3cre"), Err("invalid websocket bearer token")),
        (None, Err("missing websocket bearer token")),
        (Some(b"Basic s3cret"), Err("invalid authorization header")),
        (Some(b"Bearer "), Err("invalid authorization header")),
        (Some(b"Bearer"), Err("invalid authorization header")),
        (Some(b"Bearer \xff"), Err("invalid authorization header")),
    ];
    for (header, want) in table {
        assert_eq!(auth.authorize(*header, NOW), *want, "{:?}", header.map(String::from_utf8_lossy));
    }
}

#[test]
fn signed_bearer_tokens() {
    let ok = json!({"exp": NOW + 60});
    let other_secret = b"another secret, thirty-two bytes";
    let tampered = {
        let token = jwt(ok.clone());
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = BASE64URL_NOPAD.encode(json!({"exp": NOW + 9999}).to_string().as_bytes());
        parts[1] = &forged;
        parts.join(".")
    };
    let table: Vec<(WsAuth, String, Result<(), &str>)> = vec![
        (signed(None, None), jwt(ok.clone()), Ok(())),
        // `exp` and `nbf` get the skew as slack, and no more.
        (signed(None, None), jwt(json!({"exp": NOW - 30})), Ok(())),
        (signed(None, None), jwt(json!({"exp": NOW - 31})), Err("expired websocket jwt")),
        (signed(None, None), jwt(json!({"exp": NOW + 60, "nbf": NOW + 30})), Ok(())),
        (
            signed(None, None),
            jwt(json!({"exp": NOW + 60, "nbf": NOW + 31})),
            Err("websocket jwt is not valid yet"),
        ),
        // Malformed, unsigned, wrongly signed or tampered tokens.
        (signed(None, None), jwt(json!({"nbf": NOW})), Err("invalid websocket jwt")),
        (signed(None, None), sign(&json!({"alg": "HS256"}), &ok, other_secret), Err("invalid websocket jwt")),
        (signed(None, None), sign(&json!({"alg": "none"}), &ok, SECRET), Err("invalid websocket jwt")),
        (signed(None, None), sign(&json!({"alg": "HS512"}), &ok, SECRET), Err("invalid websocket jwt")),
        (signed(None, None), format!("{}.x", jwt(ok.clone())), Err("invalid websocket jwt")),
        (signed(None, None), tampered, Err("invalid websocket jwt")),
        (signed(None, None), "not.a.jwt".into(), Err("invalid websocket jwt")),
        // Issuer and audience, when required.
        (signed(Some("me"), None), jwt(json!({"exp": NOW + 60, "iss": "me"})), Ok(())),
        (
            signed(Some("me"), None),
            jwt(json!({"exp": NOW + 60, "iss": "you"})),
            Err("websocket jwt issuer mismatch"),
        ),
        (signed(Some("me"), None), jwt(ok.clone()), Err("websocket jwt issuer mismatch")),
        (signed(None, Some("app")), jwt(json!({"exp": NOW + 60, "aud": "app"})), Ok(())),
        (signed(None, Some("app")), jwt(json!({"exp": NOW + 60, "aud": ["x", "app"]})), Ok(())),
        (
            signed(None, Some("app")),
            jwt(json!({"exp": NOW + 60, "aud": ["x"]})),
            Err("websocket jwt audience mismatch"),
        ),
        (signed(None, Some("app")), jwt(ok.clone()), Err("websocket jwt audience mismatch")),
    ];
    for (auth, token, want) in &table {
        assert_eq!(auth.authorize(Some(&bearer(token)), NOW), *want, "{token}");
    }
    assert_eq!(signed(None, None).authorize(None, NOW), Err("missing websocket bearer token"));
}

fn args(mode: Option<WsAuthMode>) -> WsAuthArgs {
    WsAuthArgs { ws_auth: mode, ..WsAuthArgs::default() }
}

fn secret_file(name: &str, content: &str) -> PathBuf {
    let dir = crate::test_support::temp_home();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

#[test]
fn options_resolve_as_codex_checks_them() {
    assert_eq!(args(None).resolve(), Ok(None));
    let token = secret_file("token", "  s3cret\n");
    let capability =
        WsAuthArgs { ws_token_file: Some(token.clone()), ..args(Some(WsAuthMode::CapabilityToken)) };
    assert_eq!(
        capability.resolve(),
        Ok(Some(WsAuth::CapabilityToken { token_sha256: Sha256::digest(b"s3cret").into() }))
    );
    let secret = secret_file("secret", std::str::from_utf8(SECRET).unwrap());
    let bearer = WsAuthArgs {
        ws_shared_secret_file: Some(secret.clone()),
        ws_issuer: Some(" me ".into()),
        ws_audience: Some("".into()),
        ..args(Some(WsAuthMode::SignedBearerToken))
    };
    assert_eq!(
        bearer.resolve(),
        Ok(Some(WsAuth::SignedBearerToken {
            secret: SECRET.to_vec(),
            issuer: Some("me".into()),
            audience: None,
            max_clock_skew_seconds: 30,
        }))
    );

    let short = secret_file("short", "too short");
    let empty = secret_file("empty", " \n");
    let table: Vec<(WsAuthArgs, String)> = vec![
        (
            WsAuthArgs { ws_token_file: Some(token.clone()), ..args(None) },
            "websocket auth flags require `--ws-auth capability-token` or `--ws-auth signed-bearer-token`".into(),
        ),
        (
            WsAuthArgs { ws_issuer: Some("x".into()), ..capability.clone() },
            "`--ws-shared-secret-file`, `--ws-issuer`, `--ws-audience`, and `--ws-max-clock-skew-seconds` require `--ws-auth signed-bearer-token`".into(),
        ),
        (
            args(Some(WsAuthMode::CapabilityToken)),
            "`--ws-token-file` is required when `--ws-auth capability-token` is set".into(),
        ),
        (
            WsAuthArgs { ws_token_file: Some(token.clone()), ..bearer.clone() },
            "`--ws-token-file` requires `--ws-auth capability-token`, not `signed-bearer-token`".into(),
        ),
        (
            args(Some(WsAuthMode::SignedBearerToken)),
            "`--ws-shared-secret-file` is required when `--ws-auth signed-bearer-token` is set".into(),
        ),
        (
            WsAuthArgs { ws_token_file: Some("relative/token".into()), ..args(Some(WsAuthMode::CapabilityToken)) },
            "--ws-token-file must be an absolute path".into(),
        ),
        (
            WsAuthArgs { ws_shared_secret_file: Some(short.clone()), ..args(Some(WsAuthMode::SignedBearerToken)) },
            format!("signed websocket bearer secret {} must be at least 32 bytes", short.display()),
        ),
        (
            WsAuthArgs { ws_token_file: Some(empty.clone()), ..args(Some(WsAuthMode::CapabilityToken)) },
            format!("websocket auth secret {} must not be empty", empty.display()),
        ),
    ];
    for (args, want) in table {
        assert_eq!(args.resolve(), Err(want.clone()), "{args:?}");
    }
    let missing = WsAuthArgs { ws_token_file: Some("/nonexistent/token".into()), ..capability };
    let error = missing.resolve().unwrap_err();
    assert!(error.starts_with("failed to read websocket auth secret /nonexistent/token: "), "{error}");
}

#[test]
fn debug_output_hides_secrets() {
    let shown = format!("{:?}", signed(Some("me"), None));
    assert!(!shown.contains("0123456789abcdef"), "{shown}");
    assert!(shown.contains("me"), "{shown}");
}
