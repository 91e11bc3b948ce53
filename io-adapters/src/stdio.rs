//! The stdio transport: newline-delimited JSON frames on a byte stream.
//!
//! * [`LineReader`] splits input into lines of any length up to a limit; longer lines are
//!   discarded (reported as [`LineEvent::TooLong`]) without buffering them.
//! * [`read_loop`] turns lines into frames for the machine task, admitted with
//!   [`admit`](crate::transport::admit) (a request that finds ingress full is answered
//!   `-32001` at once), and reports the connection closed at end of input.
//! * [`write_loop`] owns the output stream: one frame per line, in order, flushed as soon as no
//!   more frames are ready.

use std::io;

use core_sm::wire::Frame;
use core_sm::ConnectionId;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::transport::{admit, TransportEvent};

/// One line read by a [`LineReader`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineEvent {
    /// A complete line without its `\n` (and without a trailing `\r`).
    Line(Vec<u8>),
    /// A line longer than the limit was discarded.
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
}

/// Reads `\n`-terminated lines of up to `max` bytes from a buffered stream.
#[derive(Debug)]
pub struct LineReader<R> {
    inner: R,
    max: usize,
    buf: Vec<u8>,
}

impl<R: AsyncBufRead + Unpin> LineReader<R> {
    /// A reader accepting lines of up to `max` bytes.
    pub fn new(inner: R, max: usize) -> Self {
        Self { inner, max, buf: Vec::new() }
    }

    /// The next line, or `None` at end of input. A final line without `\n` counts as a line.
    pub async fn next_line(&mut self) -> io::Result<Option<LineEvent>> {
        let mut discarded: Option<usize> = None;
        loop {
            let available = self.inner.fill_buf().await?;
            if available.is_empty() {
                if let Some(len) = discarded {
                    return Ok(Some(LineEvent::TooLong { len }));
                }
                if self.buf.is_empty() {
                    return Ok(None);
                }
                return Ok(Some(self.finish_line()));
            }
            let newline = available.iter().position(|&b| b == b'\n');
            let chunk = &available[..newline.unwrap_or(available.len())];
            match discarded.as_mut() {
                Some(len) => *len += chunk.len(),
                None if self.buf.len() + chunk.len() > self.max => {
                    discarded = Some(self.buf.len() + chunk.len());
                    self.buf = Vec::new();
                }
                None => self.buf.extend_from_slice(chunk),
            }
            let used = chunk.len() + usize::from(newline.is_some());
            self.inner.consume(used);
            if newline.is_some() {
                return Ok(Some(match discarded {
                    Some(len) => LineEvent::TooLong { len },
                    None => self.finish_line(),
                }));
            }
        }
    }

    fn finish_line(&mut self) -> LineEvent {
        let mut line = std::mem::take(&mut self.buf);
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        LineEvent::Line(line)
    }
}

/// Reads frames of connection `conn` until end of input (or a read error, or the machine task
/// going away) and delivers them with [`admit`], then reports the connection closed. Bad
/// UTF-8, blank and over-long lines are dropped.
pub async fn read_loop<R: AsyncBufRead + Unpin>(
    conn: ConnectionId,
    lines: LineReader<R>,
    ingress: mpsc::Sender<TransportEvent>,
    writer: mpsc::Sender<Frame>,
) {
    read_lines(conn, lines, &ingress, writer).await;
    // The machine task may be gone already; then there is nobody to tell.
    let _ = ingress.send(TransportEvent::Closed { conn }).await;
}

async fn read_lines<R: AsyncBufRead + Unpin>(
    conn: ConnectionId,
    mut lines: LineReader<R>,
    ingress: &mpsc::Sender<TransportEvent>,
    writer: mpsc::Sender<Frame>,
) {
    loop {
        let event = match lines.next_line().await {
            Ok(Some(event)) => event,
            Ok(None) => {
                tracing::debug!("end of input");
                return;
            }
            Err(error) => {
                tracing::warn!(%error, "read error; closing the connection");
                return;
            }
        };
        let bytes = match event {
            LineEvent::Line(bytes) => bytes,
            LineEvent::TooLong { len } => {
                tracing::warn!(len, max = lines.max, "input line over --max-frame-bytes dropped");
                continue;
            }
        };
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(error) => {
                tracing::warn!(%error, "input line is not UTF-8; dropped");
                continue;
            }
        };
        if text.trim().is_empty() {
            continue;
        }
        if admit(conn, text, ingress, &writer).await.is_err() {
            return;
        }
    }
}

/// Writes every frame from `frames` followed by `\n`, in order, flushing whenever no further
/// frame is ready. Returns once every sender is gone (after a final flush) or on a write error.
pub async fn write_loop<W: AsyncWrite + Unpin>(out: W, mut frames: mpsc::Receiver<Frame>) -> io::Result<()> {
    let mut out = tokio::io::BufWriter::new(out);
    while let Some(frame) = frames.recv().await {
        write_frame(&mut out, &frame).await?;
        while let Ok(frame) = frames.try_recv() {
            write_frame(&mut out, &frame).await?;
        }
        out.flush().await?;
    }
    out.flush().await
}

async fn write_frame<W: AsyncWrite + Unpin>(out: &mut W, frame: &str) -> io::Result<()> {
    out.write_all(frame.as_bytes()).await?;
    out.write_all(b"\n").await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(input: &[u8], max: usize) -> Vec<LineEvent> {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            // A small buffer so lines span many fill_buf calls.
            let reader = tokio::io::BufReader::with_capacity(4, input);
            let mut lines = LineReader::new(reader, max);
            let mut out = Vec::new();
            while let Some(event) = lines.next_line().await.unwrap() {
                out.push(event);
            }
            out
        })
    }

    fn line(s: &str) -> LineEvent {
        LineEvent::Line(s.as_bytes().to_vec())
    }

    #[test]
    fn splits_lines() {
        let table: &[(&str, usize, Vec<LineEvent>)] = &[
            ("", 100, vec![]),
            ("a\nbc\n", 100, vec![line("a"), line("bc")]),
            ("a\r\nlast", 100, vec![line("a"), line("last")]),
            ("\n\n", 100, vec![line(""), line("")]),
            ("short\n0123456789\nok\n", 5, vec![line("short"), LineEvent::TooLong { len: 10 }, line("ok")]),
            ("0123456789", 5, vec![LineEvent::TooLong { len: 10 }]),
            ("12345\n", 5, vec![line("12345")]),
        ];
        for (input, max, want) in table {
            assert_eq!(&lines_of(input.as_bytes(), *max), want, "{input:?}");
        }
    }

    #[test]
    fn reads_a_ten_mebibyte_line() {
        let mut input = vec![b'x'; 10 * 1024 * 1024];
        input.push(b'\n');
        input.extend_from_slice(b"next\n");
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let got = rt.block_on(async {
            let reader = tokio::io::BufReader::new(&input[..]);
            let mut lines = LineReader::new(reader, 64 * 1024 * 1024);
            let first = lines.next_line().await.unwrap().unwrap();
            let second = lines.next_line().await.unwrap().unwrap();
            (first, second)
        });
        assert!(matches!(got.0, LineEvent::Line(ref l) if l.len() == 10 * 1024 * 1024));
        assert_eq!(got.1, line("next"));
    }

    #[tokio::test]
    async fn read_loop_drops_bad_lines() {
        let input: &[u8] = b"{\"a\":1}\n\xff\xfe\n   \n0123456789012345678901234567890\n{\"b\":2}";
        let (ingress, mut ingress_rx) = mpsc::channel(8);
        let (writer, _writer_rx) = mpsc::channel(8);
        let lines = LineReader::new(tokio::io::BufReader::new(input), 20);
        read_loop(ConnectionId(0), lines, ingress, writer).await;
        let mut got = Vec::new();
        while let Some(event) = ingress_rx.recv().await {
            got.push(match event {
                TransportEvent::Frame { text, .. } => text,
                TransportEvent::Closed { conn } => format!("closed {conn}"),
                other => panic!("unexpected {other:?}"),
            });
        }
        assert_eq!(got, vec![r#"{"a":1}"#, r#"{"b":2}"#, "closed conn#0"]);
    }

    #[tokio::test]
    async fn write_loop_keeps_order_and_terminates_lines() {
        let (tx, rx) = mpsc::channel(8);
        let (client, server) = tokio::io::duplex(1024);
        let writer = tokio::spawn(write_loop(server, rx));
        for f in ["{\"n\":1}", "{\"n\":2}", "{\"n\":3}"] {
            tx.send(Frame::from(f)).await.unwrap();
        }
        drop(tx);
        writer.await.unwrap().unwrap();
        let mut text = String::new();
        let mut client = tokio::io::BufReader::new(client);
        tokio::io::AsyncReadExt::read_to_string(&mut client, &mut text).await.unwrap();
        assert_eq!(text, "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
    }
}
