//! The HTTP side of the websocket listener: reading one request head and deciding its answer.
//!
//! It behaves as Codex's listener does (PROTOCOL.md §2): any request carrying an `Origin`
//! header is refused with `403`; `GET /readyz` and `GET /healthz` answer `200` with an empty
//! body; every other request is a websocket upgrade attempt, answered with the same status and
//! text as axum's `WebSocketUpgrade` rejections when it is not one (`400 Connection header did
//! not include 'upgrade'` for a plain `GET /`). With `--ws-auth`, an upgrade that passes those
//! checks must also carry a valid bearer token ([`WsAuth`]), else `401` with Codex's message.
//! Non-upgrade answers close the connection.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use super::auth::WsAuth;

/// The longest request head read (request line and headers).
pub(crate) const MAX_HEAD_BYTES: usize = 16 * 1024;

/// How long a client may take to send its request head.
pub(crate) const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// Most headers a request head may carry.
const MAX_HEADERS: usize = 64;

/// One parsed request head, and the bytes read after it (the start of the first websocket frame,
/// if the client did not wait for the `101`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    pub method: String,
    /// The path without its query.
    pub path: String,
    /// Names lowercased, in order.
    pub headers: Vec<(String, Vec<u8>)>,
    pub rest: Vec<u8>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice())
    }
}

/// Why no request head could be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HeadError {
    /// The peer closed (or the read failed) before a whole head arrived.
    #[error("connection ended before a request head: {0}")]
    Io(#[from] std::io::Error),
    /// Not HTTP/1.x.
    #[error("malformed request head: {0}")]
    Malformed(httparse::Error),
    /// Longer than [`MAX_HEAD_BYTES`].
    #[error("request head over {MAX_HEAD_BYTES} bytes")]
    TooLarge,
}

impl HeadError {
    /// The answer owed to the client, if it is still there to read one.
    pub(crate) fn reply(&self) -> Option<Reply> {
        match self {
            HeadError::Io(_) => None,
            HeadError::Malformed(_) => Some(Reply::status(400, "Bad Request", "")),
            HeadError::TooLarge => Some(Reply::status(431, "Request Header Fields Too Large", "")),
        }
    }
}

/// Reads one request head from `stream`.
pub(crate) async fn read_head<S: AsyncRead + Unpin>(stream: &mut S) -> Result<Head, HeadError> {
    let mut buf = Vec::with_capacity(1024);
    loop {
        let mut chunk = [0u8; 2048];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(HeadError::Io(std::io::ErrorKind::UnexpectedEof.into()));
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(head) = parse_head(&buf)? {
            return Ok(head);
        }
        if buf.len() > MAX_HEAD_BYTES {
            return Err(HeadError::TooLarge);
        }
    }
}

/// Parses a head from the start of `buf`: `None` if it is not complete yet.
fn parse_head(buf: &[u8]) -> Result<Option<Head>, HeadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let len = match request.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooLarge),
        Err(e) => return Err(HeadError::Malformed(e)),
    };
    if len > MAX_HEAD_BYTES {
        return Err(HeadError::TooLarge);
    }
    let target = request.path.unwrap_or("/");
    Ok(Some(Head {
        method: request.method.unwrap_or("").to_owned(),
        path: target.split('?').next().unwrap_or(target).to_owned(),
        headers: request.headers.iter().map(|h| (h.name.to_ascii_lowercase(), h.value.to_vec())).collect(),
        rest: buf[len..].to_vec(),
    }))
}

/// What the listener answers a request head with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reply {
    /// A plain response, after which the connection is closed.
    Status {
        code: u16,
        reason: &'static str,
        /// `text/plain` when not empty.
        body: &'static str,
    },
    /// `101 Switching Protocols` with this `Sec-WebSocket-Accept`; the websocket follows.
    Upgrade { accept: String },
}

impl Reply {
    fn status(code: u16, reason: &'static str, body: &'static str) -> Self {
        Reply::Status { code, reason, body }
    }

    /// The response bytes.
    pub(crate) fn encode(&self) -> Vec<u8> {
        match self {
            Reply::Status { code, reason, body } => {
                let content_type =
                    if body.is_empty() { "" } else { "content-type: text/plain; charset=utf-8\r\n" };
                format!(
                    "HTTP/1.1 {code} {reason}\r\n{content_type}content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                )
                .into_bytes()
            }
            Reply::Upgrade { accept } => format!(
                "HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\nsec-websocket-accept: {accept}\r\n\r\n"
            )
            .into_bytes(),
        }
    }
}

/// Decides the answer to `head`, authorizing upgrades with `auth` (if any) at `now` (Unix
/// seconds).
pub(crate) fn answer(head: &Head, auth: Option<&WsAuth>, now: i64) -> Reply {
    if head.header("origin").is_some() {
        return Reply::status(403, "Forbidden", "");
    }
    if matches!(head.path.as_str(), "/readyz" | "/healthz") {
        return match head.method.as_str() {
            "GET" | "HEAD" => Reply::status(200, "OK", ""),
            _ => Reply::status(405, "Method Not Allowed", ""),
        };
    }
    match upgrade(head) {
        Reply::Upgrade { accept } => match auth.map(|a| a.authorize(head.header("authorization"), now)) {
            Some(Err(message)) => Reply::status(401, "Unauthorized", message),
            None | Some(Ok(())) => Reply::Upgrade { accept },
        },
        refused => refused,
    }
}

/// The upgrade checks, in axum's order and with its texts.
fn upgrade(head: &Head) -> Reply {
    if head.method != "GET" {
        return Reply::status(405, "Method Not Allowed", "Request method must be `GET`");
    }
    let has_token = |name: &str, token: &str| {
        head.headers.iter().filter(|(n, _)| n == name).any(|(_, v)| {
            v.split(|&b| b == b',').any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
        })
    };
    if !has_token("connection", "upgrade") {
        return Reply::status(400, "Bad Request", "Connection header did not include 'upgrade'");
    }
    if !head.header("upgrade").is_some_and(|v| v.eq_ignore_ascii_case(b"websocket")) {
        return Reply::status(400, "Bad Request", "`Upgrade` header did not include 'websocket'");
    }
    if head.header("sec-websocket-version") != Some(b"13".as_slice()) {
        return Reply::status(400, "Bad Request", "`Sec-WebSocket-Version` header did not include '13'");
    }
    match head.header("sec-websocket-key") {
        Some(key) => Reply::Upgrade { accept: derive_accept_key(key) },
        None => Reply::status(400, "Bad Request", "`Sec-WebSocket-Key` header missing"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UPGRADE: &str = "Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

    fn head(text: &str) -> Head {
        parse_head(text.as_bytes()).expect("valid").expect("complete")
    }

    fn status_of(reply: &Reply) -> (u16, &'static str) {
        match reply {
            Reply::Status { code, body, .. } => (*code, *body),
            Reply::Upgrade { .. } => (101, ""),
        }
    }

    #[test]
    fn answers() {
        let table: &[(&str, u16, &str)] = &[
            ("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n", 200, ""),
            ("GET /healthz HTTP/1.1\r\n\r\n", 200, ""),
            ("HEAD /healthz?probe=1 HTTP/1.1\r\n\r\n", 200, ""),
            ("POST /readyz HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405, ""),
            ("GET /healthz HTTP/1.1\r\nOrigin: http://evil.example\r\n\r\n", 403, ""),
            (&format!("GET / HTTP/1.1\r\nOrigin: http://x\r\n{UPGRADE}\r\n"), 403, ""),
            ("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 400, "Connection header did not include 'upgrade'"),
            ("GET /readyz/ HTTP/1.1\r\n\r\n", 400, "Connection header did not include 'upgrade'"),
            ("POST / HTTP/1.1\r\n\r\n", 405, "Request method must be `GET`"),
            (
                "GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n",
                400,
                "`Upgrade` header did not include 'websocket'",
            ),
            (
                "GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: WebSocket\r\nSec-WebSocket-Version: 8\r\n\r\n",
                400,
                "`Sec-WebSocket-Version` header did not include '13'",
            ),
            (
                "GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n",
                400,
                "`Sec-WebSocket-Key` header missing",
            ),
            (&format!("GET /any/path HTTP/1.1\r\n{UPGRADE}\r\n"), 101, ""),
        ];
        for (request, code, body) in table {
            assert_eq!(status_of(&answer(&head(request), None, 0)), (*code, *body), "{request:?}");
        }
    }

    #[test]
    fn with_auth_only_upgrades_need_a_token() {
        use sha2::Digest;
        let auth = WsAuth::CapabilityToken { token_sha256: sha2::Sha256::digest(b"t0ken").into() };
        let table: &[(&str, u16, &str)] = &[
            ("GET /readyz HTTP/1.1\r\n\r\n", 200, ""),
            ("GET / HTTP/1.1\r\n\r\n", 400, "Connection header did not include 'upgrade'"),
            (&format!("GET / HTTP/1.1\r\n{UPGRADE}\r\n"), 401, "missing websocket bearer token"),
            (
                &format!("GET / HTTP/1.1\r\nAuthorization: Bearer nope\r\n{UPGRADE}\r\n"),
                401,
                "invalid websocket bearer token",
            ),
            (
                &format!("GET / HTTP/1.1\r\nOrigin: x\r\nAuthorization: Bearer t0ken\r\n{UPGRADE}\r\n"),
                403,
                "",
            ),
            (&format!("GET / HTTP/1.1\r\nAuthorization: Bearer t0ken\r\n{UPGRADE}\r\n"), 101, ""),
        ];
        for (request, code, body) in table {
            assert_eq!(status_of(&answer(&head(request), Some(&auth), 0)), (*code, *body), "{request:?}");
        }
    }

    #[test]
    fn upgrade_accept_key_is_rfc_6455s() {
        // The example handshake of RFC 6455 §1.3.
        let reply = answer(
            &head(&format!("GET /chat HTTP/1.1\r\nHost: server.example.com\r\n{UPGRADE}\r\n")),
            None,
            0,
        );
        assert_eq!(reply, Reply::Upgrade { accept: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".into() });
        let bytes = String::from_utf8(reply.encode()).unwrap();
        assert!(bytes.starts_with("HTTP/1.1 101 Switching Protocols\r\n"), "{bytes}");
        assert!(bytes.contains("sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), "{bytes}");
    }

    #[test]
    fn status_replies_are_complete_http_responses() {
        let ok = String::from_utf8(Reply::status(200, "OK", "").encode()).unwrap();
        assert_eq!(ok, "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        let bad = String::from_utf8(Reply::status(400, "Bad Request", "nope").encode()).unwrap();
        assert_eq!(
            bad,
            "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 4\r\nconnection: close\r\n\r\nnope"
        );
    }

    #[test]
    fn heads_split_anywhere_are_read_whole_with_what_follows() {
        let head_text = format!("GET / HTTP/1.1\r\n{UPGRADE}\r\n");
        let bytes = [head_text.as_bytes(), &[0x81, 0x05, 0x68]].concat();
        for cut in 1..bytes.len() {
            let head = tokio_test_read(&[&bytes[..cut], &bytes[cut..]]).expect("a head");
            assert_eq!(head.path, "/");
            // Reading stops once the head is whole: the rest is what came with its last read.
            let last_read_end = if cut < head_text.len() { bytes.len() } else { cut };
            assert_eq!(head.rest, &bytes[head_text.len()..last_read_end], "cut at {cut}");
        }
    }

    #[test]
    fn bad_heads_are_refused() {
        assert!(matches!(tokio_test_read(&[b"\x16\x03\x01 not http\r\n\r\n"]), Err(HeadError::Malformed(_))));
        let huge = format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "a".repeat(MAX_HEAD_BYTES));
        assert!(matches!(tokio_test_read(&[huge.as_bytes()]), Err(HeadError::TooLarge)));
        let many: String = (0..MAX_HEADERS + 1).map(|i| format!("X-{i}: 1\r\n")).collect();
        let many = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert!(matches!(tokio_test_read(&[many.as_bytes()]), Err(HeadError::TooLarge)));
        assert!(matches!(tokio_test_read(&[b"GET / HTTP/1.1\r\n"]), Err(HeadError::Io(_))));
        assert_eq!(HeadError::TooLarge.reply().map(|r| status_of(&r).0), Some(431));
    }

    /// Reads a head from a stream that delivers `chunks` one read at a time.
    fn tokio_test_read(chunks: &[&[u8]]) -> Result<Head, HeadError> {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let mut reader = Chunked(chunks.iter().map(|c| c.to_vec()).collect());
        rt.block_on(read_head(&mut reader))
    }

    /// Yields its chunks one per read, then end of input.
    struct Chunked(std::collections::VecDeque<Vec<u8>>);

    impl AsyncRead for Chunked {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            if let Some(mut chunk) = self.0.pop_front() {
                let n = chunk.len().min(buf.remaining());
                buf.put_slice(&chunk[..n]);
                if n < chunk.len() {
                    self.0.push_front(chunk.split_off(n));
                }
            }
            std::task::Poll::Ready(Ok(()))
        }
    }
}
