//! The incremental top-level reader: it walks top-level boxes, skips media data, and asks
//! for exactly the boxes that describe the movie (`ftyp`, `moov`, and each `moof` of a
//! fragmented file), so a caller holding byte ranges never reads more than those boxes.

use super::boxes::{BoxHeader, FourCC};
use super::fragment::parse_moof;
use super::moov::{parse_moov, Movie, MovieBuilder};
use crate::error::{Error, ErrorKind, Result};
use crate::plan::ByteRange;
use crate::text;

/// What the reader needs next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Bytes `[range.start, range.end)` are required; reading up to `prefetch_end` (exclusive)
    /// in the same request is likely to save a round trip (it never exceeds the file size).
    Bytes {
        /// The bytes that must be pushed next.
        range: ByteRange,
        /// A good end for the request that fetches `range`.
        prefetch_end: u64,
    },
    /// The movie is indexed: call [`Mp4Reader::finish`].
    Ready,
}

/// Tunables of [`Mp4Reader`].
#[derive(Debug, Clone, Copy)]
pub struct ReaderOptions {
    /// Largest `moov` (or `moof`) accepted, in bytes; bigger ones are rejected as TooLarge.
    pub max_header_box: u64,
    /// When the `moov` has not been found and the rest of the file after a skipped `mdat`
    /// is at most this long, fetch the rest in one request (a moov-last file's tail).
    pub tail_prefetch: u64,
    /// How far past a top-level box header to read when walking boxes otherwise.
    pub walk_prefetch: u64,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        Self {
            max_header_box: 1 << 30,
            tail_prefetch: 16 << 20,
            walk_prefetch: 64 << 10,
        }
    }
}

/// Reads an MP4/MOV file's structure from byte ranges, asking only for the boxes it needs.
///
/// ```
/// # use frameseek_core::mp4::{Mp4Reader, Need};
/// let file: &[u8] = &[]; // the whole file here; a real caller fetches ranges
/// let mut reader = Mp4Reader::new(file.len() as u64);
/// while let Need::Bytes { range, .. } = reader.need() {
///     let bytes = &file[range.start as usize..range.end as usize];
///     if reader.push(range.start, bytes).is_err() { break; }
/// }
/// ```
#[derive(Debug)]
pub struct Mp4Reader {
    file_size: u64,
    opts: ReaderOptions,
    /// Offset of the next top-level box header.
    pos: u64,
    /// A top-level box whose whole body is needed before moving on.
    pending: Option<BoxHeader>,
    builder: Option<MovieBuilder>,
    brand: Option<FourCC>,
    compatible: Vec<FourCC>,
    passed_mdat: bool,
    done: bool,
    failed: Option<Error>,
}

impl Mp4Reader {
    /// A reader for a file of `file_size` bytes, with default options.
    pub fn new(file_size: u64) -> Self {
        Self::with_options(file_size, ReaderOptions::default())
    }

    /// A reader with explicit options.
    pub fn with_options(file_size: u64, opts: ReaderOptions) -> Self {
        Self {
            file_size,
            opts,
            pos: 0,
            pending: None,
            builder: None,
            brand: None,
            compatible: Vec::new(),
            passed_mdat: false,
            done: false,
            failed: (file_size == 0).then(|| Error::new(ErrorKind::NotMp4 { found: "" }, 0)),
        }
    }

    /// The file size this reader was created with.
    pub fn file_size(&self) -> u64 {
        self.file_size
    }

    /// The bytes needed next, or [`Need::Ready`].
    pub fn need(&self) -> Need {
        if self.done || self.failed.is_some() {
            return Need::Ready;
        }
        if let Some(h) = self.pending {
            let end = h.end(self.file_size);
            return Need::Bytes {
                range: ByteRange::new(h.offset, end),
                prefetch_end: end,
            };
        }
        let start = self.pos;
        let end = (start + super::boxes::MAX_HEADER_LEN).min(self.file_size);
        let prefetch = if self.builder.is_none()
            && self.passed_mdat
            && self.file_size - start <= self.opts.tail_prefetch
        {
            self.file_size
        } else {
            start
                .saturating_add(self.opts.walk_prefetch)
                .min(self.file_size)
        };
        Need::Bytes {
            range: ByteRange::new(start, end),
            prefetch_end: prefetch.max(end),
        }
    }

    /// Gives the reader bytes `data` found at file offset `offset`. The bytes must cover the
    /// start of the current [`Need::Bytes`] range; extra bytes beyond it are used too (several
    /// boxes can be consumed from one push). Errors are sticky: after one, `finish` returns it.
    pub fn push(&mut self, offset: u64, data: &[u8]) -> Result<()> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let r = self.consume(offset, data);
        if let Err(e) = &r {
            self.failed = Some(e.clone());
        }
        r
    }

    fn consume(&mut self, offset: u64, data: &[u8]) -> Result<()> {
        let data_end = offset + data.len() as u64;
        let mut progressed = false;
        loop {
            let Need::Bytes { range, .. } = self.need() else {
                return Ok(());
            };
            let covered = range.start >= offset && range.end <= data_end;
            if !covered {
                let touches = range.start >= offset && range.start <= data_end;
                if progressed || touches {
                    // The caller fetches the rest with the next need().
                    return Ok(());
                }
                return Err(Error::new(
                    ErrorKind::Usage {
                        why: text![
                            "pushed bytes ",
                            offset,
                            "..",
                            data_end,
                            " do not cover the needed ",
                            range.start,
                            "..",
                            range.end
                        ],
                    },
                    range.start,
                ));
            }
            let slice = &data[(range.start - offset) as usize..(range.end - offset) as usize];
            match self.pending.take() {
                Some(h) => self.parse_box(h, slice)?,
                None => self.walk_header(slice)?,
            }
            if !self.done && self.pending.is_none() && self.pos >= self.file_size {
                self.end_of_file(self.pos)?;
            }
            progressed = true;
        }
    }

    /// Handles the header at `self.pos`; `bytes` start there (at most 16 bytes are given).
    fn walk_header(&mut self, bytes: &[u8]) -> Result<()> {
        let at = self.pos;
        if at >= self.file_size {
            return self.end_of_file(at);
        }
        let header = match BoxHeader::parse(bytes, at) {
            Ok(Some(h)) => h,
            Ok(None) => {
                // Fewer than a header's bytes before the end of the file.
                return self.end_of_file(at);
            }
            Err(e) => {
                if self.builder.is_none() && at == 0 {
                    return Err(not_mp4(bytes));
                }
                return self.stop_or(e);
            }
        };
        if at == 0 && !is_plausible_first_box(&header.kind.0) {
            return Err(not_mp4(bytes));
        }
        let end = header.end(self.file_size);
        let overruns = end > self.file_size;
        match &header.kind.0 {
            b"ftyp" | b"moov" | b"moof" => {
                if overruns {
                    let e = Error::truncated(kind_name(&header.kind.0), at);
                    return self.stop_or(e);
                }
                let len = end - at;
                if len > self.opts.max_header_box {
                    return Err(Error::too_large(
                        kind_name(&header.kind.0),
                        len,
                        self.opts.max_header_box,
                        at,
                    ));
                }
                if &header.kind.0 == b"moof" && self.builder.is_none() {
                    return Err(Error::invalid(
                        "moof",
                        "movie fragment before the moov box",
                        at,
                    ));
                }
                self.pending = Some(header);
            }
            kind => {
                if kind == b"mdat" {
                    self.passed_mdat = true;
                }
                if overruns {
                    // A truncated file: the box (usually mdat) runs past the end.
                    if self.builder.is_none() {
                        return Err(Error::truncated(
                            "file (a box runs past its end, no moov found)",
                            at,
                        ));
                    }
                    return self.end_of_file(at);
                }
                self.pos = end;
            }
        }
        Ok(())
    }

    /// Parses a whole top-level box whose bytes are `bytes`.
    fn parse_box(&mut self, h: BoxHeader, bytes: &[u8]) -> Result<()> {
        let payload = &bytes[h.header_len as usize..];
        let base = h.payload_offset();
        self.pos = h.end(self.file_size);
        match &h.kind.0 {
            b"ftyp" => {
                let mut c = super::cursor::Cursor::new(payload, base, "ftyp");
                let brand = FourCC(c.fourcc());
                c.u32();
                c.check()?;
                self.brand = Some(brand);
                while c.remaining() >= 4 {
                    self.compatible.push(FourCC(c.fourcc()));
                }
            }
            b"moov" => {
                if self.builder.is_some() {
                    return Err(Error::invalid("moov", "second moov box", h.offset));
                }
                let builder = parse_moov(payload, base, self.file_size)?;
                let fragmented = builder.fragmented;
                self.builder = Some(builder);
                if !fragmented {
                    self.done = true;
                }
            }
            b"moof" => {
                if let Some(b) = self.builder.as_mut() {
                    parse_moof(b, payload, h.offset, base)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn end_of_file(&mut self, at: u64) -> Result<()> {
        if self.builder.is_some() {
            self.done = true;
            Ok(())
        } else if self.brand.is_none() && at == 0 {
            Err(Error::new(ErrorKind::NotMp4 { found: "" }, 0))
        } else {
            Err(Error::new(ErrorKind::Missing { what: "moov box" }, at))
        }
    }

    /// With a movie already indexed (a fragmented file truncated in a later fragment), stop
    /// walking and keep what was read; otherwise fail with `e`.
    fn stop_or(&mut self, e: Error) -> Result<()> {
        if self.builder.as_ref().is_some_and(|b| b.fragmented) {
            self.done = true;
            Ok(())
        } else {
            Err(e)
        }
    }

    /// Finishes reading and builds the movie. Fails if [`Mp4Reader::need`] is not
    /// [`Need::Ready`] or an earlier push failed.
    pub fn finish(self) -> Result<Movie> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        if !self.done {
            return Err(Error::new(
                ErrorKind::Usage {
                    why: "finish() called before the reader was ready".into(),
                },
                self.pos,
            ));
        }
        let Some(builder) = self.builder else {
            return Err(Error::new(
                ErrorKind::Missing { what: "moov box" },
                self.pos,
            ));
        };
        builder.build(self.brand, &self.compatible)
    }
}

fn kind_name(kind: &[u8; 4]) -> &'static str {
    match kind {
        b"ftyp" => "ftyp box",
        b"moov" => "moov box",
        b"moof" => "moof box",
        _ => "box",
    }
}

/// The error for a file whose first bytes are `head`: not MP4, and what it looks like.
fn not_mp4(head: &[u8]) -> Error {
    Error::new(ErrorKind::NotMp4 { found: sniff(head) }, 0)
}

/// What a file that is not MP4 looks like from its first bytes, as a suffix for the error
/// message (" (WebM/Matroska?)"): the containers a video URL most often turns out to hold,
/// and the documents a server or object store answers with instead (an expired signed URL's
/// XML, a login page). Empty when nothing matches. First bytes only, and short: this code is
/// in the browser module, whose size is budgeted.
pub fn sniff(head: &[u8]) -> &'static str {
    match head {
        [0x1a, 0x45, 0xdf, 0xa3, ..] => " (WebM/Matroska?)",
        // A transport stream's sync byte is a GIF's "G": "GIF" is no TS packet header.
        [0x47, b, ..] if *b != b'I' => " (MPEG-TS?)",
        [b'R', b'I', b'F', b'F', ..] => " (AVI?)",
        [b'#', b'E', b'X', b'T', b'M', b'3', b'U', ..] => " (an HLS playlist?)",
        [b'<', ..] => " (an HTML/XML page: an error?)",
        [b'{', ..] => " (JSON: an error?)",
        _ => "",
    }
}

/// Box types that can open an ISO BMFF or QuickTime file.
fn is_plausible_first_box(kind: &[u8; 4]) -> bool {
    matches!(
        kind,
        b"ftyp"
            | b"moov"
            | b"mdat"
            | b"free"
            | b"skip"
            | b"wide"
            | b"pnot"
            | b"uuid"
            | b"styp"
            | b"sidx"
            | b"junk"
            | b"pdin"
    )
}

/// Reads a whole movie with a synchronous range reader `read(start, end)` that returns the
/// bytes `[start, end)` (it may return fewer at the end of the file). Used by the CLI and the
/// server; the browser drives [`Mp4Reader`] itself with `fetch`.
pub fn read_movie<E: From<Error>>(
    file_size: u64,
    mut read: impl FnMut(u64, u64) -> Result<Vec<u8>, E>,
) -> Result<Movie, E> {
    let mut reader = Mp4Reader::new(file_size);
    while let Need::Bytes {
        range,
        prefetch_end,
    } = reader.need()
    {
        let bytes = read(range.start, prefetch_end)?;
        if (bytes.len() as u64) < range.len() {
            return Err(Error::truncated("file", range.start + bytes.len() as u64).into());
        }
        reader.push(range.start, &bytes)?;
    }
    Ok(reader.finish()?)
}
