//! Response bodies on the zero-copy path: file pieces with sendfile(2) from the page cache
//! straight to the socket (a piece not in memory is read on the blocking pool instead, so
//! no worker waits for the disk), and any other body by polling its frames.

use super::encode::Framing;
use crate::metrics::MeteredBody;
use crate::respond::{FileBody, Piece};
use crate::server::WarpBody;
use crate::storage::{Object, CHUNK};
use http_body::Body;
use rustix::net::SendFlags;
use std::fs::File;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use tokio::io::Interest;
use tokio::net::TcpStream;

/// After this many bytes sent without waiting, a body yields once so that one fast
/// download does not keep its worker from the others (as the read stream does).
const YIELD_EVERY: u64 = 1024 * 1024;

/// Most bytes one sendfile call is asked for (nginx's `sendfile_max_chunk` default is
/// 2 MiB): each [`CHUNK`] of it is first checked to be in memory.
const SENDFILE_MAX: u64 = 2 * 1024 * 1024;

/// Writes all of `data`, waiting for the socket when it is full.
///
/// Not with MSG_MORE, although that would put a head and the start of its body into one
/// segment: measured on loopback, 64 KiB ranges cost about 40% more server CPU with it.
pub(super) async fn send_all(stream: &TcpStream, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        let n = stream
            .async_io(Interest::WRITABLE, || {
                rustix::net::send(stream, data, SendFlags::NOSIGNAL).map_err(io::Error::from)
            })
            .await?;
        data = &data[n..];
    }
    Ok(())
}

/// Sends `file`'s pieces, counting every byte on `metered`. An error (the client went
/// away, the file became shorter than its response promised) means the connection must
/// close: the response is incomplete.
pub(super) async fn send_file(
    stream: &TcpStream,
    file: &FileBody,
    metered: &mut MeteredBody<WarpBody>,
) -> io::Result<()> {
    let object = &file.object;
    let mut since_yield = 0;
    for piece in &file.pieces {
        match piece {
            Piece::Bytes(bytes) => {
                send_all(stream, bytes).await?;
                metered.count_sent(bytes.len() as u64);
            }
            Piece::Range(range) => {
                let Some((fd, start)) = object.file_extent() else {
                    return Err(io::Error::other("object has no file"));
                };
                let mut pos = range.start;
                while pos < range.end {
                    // The longest run of chunks whose first pages are in memory, up to
                    // SENDFILE_MAX: one sendfile call for it.
                    let mut run = 0;
                    while run < SENDFILE_MAX && pos + run < range.end {
                        if !in_memory(fd, start + pos + run) {
                            break;
                        }
                        run = (run + CHUNK as u64).min(range.end - pos);
                    }
                    let run = run.min(SENDFILE_MAX);
                    if run > 0 {
                        sendfile(stream, fd, start + pos, run, metered).await?;
                        pos += run;
                        since_yield += run;
                    } else {
                        let n = (range.end - pos).min(CHUNK as u64);
                        let bytes = read_blocking(object, pos, n as usize).await?;
                        send_all(stream, &bytes).await?;
                        metered.count_sent(n);
                        pos += n;
                        since_yield += n;
                    }
                    if since_yield >= YIELD_EVERY {
                        since_yield = 0;
                        tokio::task::yield_now().await;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Whether the byte at `offset` of `fd` is in the page cache: a one-byte
/// `preadv2(RWF_NOWAIT)` into the stack (about 0.6 µs of CPU per 64 KiB range, measured on
/// the benchmark machine). Without it sendfile would read a cold file on this worker
/// thread. Only the first page of a chunk is checked; kernel read-ahead usually brings the
/// rest with it. Past the end of the file (truncated since the open) the answer is no, and
/// the blocking read then reports the short file.
fn in_memory(fd: &File, offset: u64) -> bool {
    use rustix::io::{preadv2, Errno, ReadWriteFlags};
    let mut byte = [0u8; 1];
    loop {
        let mut slices = [io::IoSliceMut::new(&mut byte)];
        match preadv2(fd, &mut slices, offset, ReadWriteFlags::NOWAIT) {
            Ok(n) => return n == 1,
            Err(Errno::INTR) => continue,
            Err(_) => return false,
        }
    }
}

/// Reads a chunk on the blocking pool (it is not in memory, or the probe failed: then the
/// read reports why).
async fn read_blocking(object: &Arc<dyn Object>, pos: u64, n: usize) -> io::Result<bytes::Bytes> {
    let object = Arc::clone(object);
    tokio::task::spawn_blocking(move || object.read_at(pos, n))
        .await
        .map_err(io::Error::other)?
}

/// sendfile(2) of `n` bytes at `offset` of `fd`, waiting for the socket when it is full.
async fn sendfile(
    stream: &TcpStream,
    fd: &File,
    offset: u64,
    n: u64,
    metered: &mut MeteredBody<WarpBody>,
) -> io::Result<()> {
    let mut offset = offset;
    let end = offset + n;
    while offset < end {
        let count = (end - offset) as usize;
        let sent = stream
            .async_io(Interest::WRITABLE, || {
                rustix::fs::sendfile(stream, fd, Some(&mut offset), count).map_err(io::Error::from)
            })
            .await?;
        if sent == 0 {
            // End of file before the end of the range: the file was truncated.
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "file shorter than the response",
            ));
        }
        metered.count_sent(sent as u64);
    }
    Ok(())
}

/// Sends a body by polling its frames, framed as the head said. `Ok(true)` when the body
/// was sent whole and the connection can carry another response.
pub(super) async fn send_polled(
    stream: &TcpStream,
    body: &mut MeteredBody<WarpBody>,
    framing: Framing,
) -> io::Result<bool> {
    let mut left = match framing {
        Framing::Length(0) => return Ok(true),
        Framing::Length(n) => Some(n),
        Framing::Chunked => None,
    };
    loop {
        let frame = std::future::poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await;
        let frame = match frame {
            None => break,
            Some(Ok(frame)) => frame,
            Some(Err(e)) => {
                tracing::debug!("response body failed: {e}");
                return Ok(false);
            }
        };
        let Ok(data) = frame.into_data() else {
            continue; // trailers are not sent
        };
        if data.is_empty() {
            continue;
        }
        match left.as_mut() {
            Some(left) => {
                let n = (data.len() as u64).min(*left);
                *left -= n;
                send_all(stream, &data[..n as usize]).await?;
                if *left == 0 {
                    return Ok(true);
                }
            }
            None => {
                let size = format!("{:x}\r\n", data.len());
                let mut chunk = Vec::with_capacity(size.len() + data.len() + 2);
                chunk.extend_from_slice(size.as_bytes());
                chunk.extend_from_slice(&data);
                chunk.extend_from_slice(b"\r\n");
                send_all(stream, &chunk).await?;
            }
        }
    }
    match left {
        // The body ended before its length: the response cannot be completed.
        Some(_) => Ok(false),
        None => {
            send_all(stream, b"0\r\n\r\n").await?;
            Ok(true)
        }
    }
}
