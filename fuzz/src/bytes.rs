//! The byte-level format shared by the decoders and the seed encoder.
//!
//! Decoding uses three primitives only (a byte, a pick among `n`, a length-prefixed chunk), each
//! with an obvious inverse in [`Sink`], so seeds can be written as values and encoded exactly.
//! Past the end of the input every byte reads as 0, and 0 always means the most ordinary choice.

/// Reads the primitives from fuzz input.
#[derive(Debug)]
pub struct Src<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Src<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// The next byte, or 0 past the end.
    pub fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    /// Two bytes, little-endian.
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }

    /// An index below `n` (`n > 0`): one byte when `n <= 256`, else two.
    pub fn pick(&mut self, n: usize) -> usize {
        debug_assert!(n > 0);
        if n <= 256 {
            usize::from(self.byte()) % n
        } else {
            usize::from(self.u16()) % n
        }
    }

    /// A chunk with a one-byte length prefix (at most 255 bytes; short at the end of input).
    pub fn chunk(&mut self) -> Vec<u8> {
        let len = usize::from(self.byte());
        self.take(len)
    }

    /// A chunk with a two-byte length prefix.
    pub fn chunk16(&mut self) -> Vec<u8> {
        let len = usize::from(self.u16());
        self.take(len)
    }

    fn take(&mut self, len: usize) -> Vec<u8> {
        let start = self.pos.min(self.data.len());
        let end = (start + len).min(self.data.len());
        self.pos = self.pos.saturating_add(len);
        self.data[start..end].to_vec()
    }
}

/// Writes the primitives: the inverse of [`Src`].
#[derive(Debug, Default)]
pub struct Sink {
    /// The encoded bytes.
    pub out: Vec<u8>,
}

impl Sink {
    /// One byte.
    pub fn byte(&mut self, b: u8) {
        self.out.push(b);
    }

    /// Two bytes, little-endian.
    pub fn u16(&mut self, v: u16) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }

    /// The inverse of [`Src::pick`] for `i < n`.
    pub fn pick(&mut self, i: usize, n: usize) {
        assert!(i < n, "pick {i} of {n}");
        if n <= 256 {
            self.byte(i as u8);
        } else {
            self.u16(i as u16);
        }
    }

    /// The inverse of [`Src::chunk`]; panics above 255 bytes.
    pub fn chunk(&mut self, bytes: &[u8]) {
        self.byte(u8::try_from(bytes.len()).expect("chunk longer than 255 bytes"));
        self.out.extend_from_slice(bytes);
    }

    /// The inverse of [`Src::chunk16`].
    pub fn chunk16(&mut self, bytes: &[u8]) {
        self.u16(u16::try_from(bytes.len()).expect("chunk longer than 65535 bytes"));
        self.out.extend_from_slice(bytes);
    }
}
