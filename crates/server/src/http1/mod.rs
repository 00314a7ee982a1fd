//! Our own HTTP/1.1 connection loop (Linux), in front of hyper: it serves plain GET, HEAD
//! and OPTIONS requests itself and sends file bodies with sendfile(2), so their bytes are
//! never copied through user space (hyper can only write from memory). Everything else
//! (request bodies, `Expect`, `Upgrade`, HTTP/1.0, malformed or huge heads) is handed to
//! hyper, with the bytes already read, for the rest of the connection.
//!
//! Both paths call the same [`App`] (routes, CORS, metrics, access log) and write the same
//! heads (`encode` follows hyper's rules), so a response does not depend on the path.

mod body;
mod encode;
mod parse;
mod rewind;

use crate::respond::FileBody;
use crate::server::{serve_hyper, stopped, App, HEADER_TIMEOUT};
use bytes::{Buf, BytesMut};
use encode::{BodyLen, Framing};
use http::Method;
use http_body::Body;
use rewind::Rewind;
use std::future::Future;
use std::pin::Pin;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};

/// Initial size of a connection's read buffer (grown up to `parse::MAX_HEAD` for a head).
const READ_BUFFER: usize = 4096;

/// Serves one connection: on this loop while requests are simple, then on hyper.
pub(crate) async fn serve(stream: TcpStream, app: App, stop: watch::Receiver<bool>) {
    let mut on_stop = stop.clone();
    let mut conn = Conn {
        stream,
        buf: BytesMut::with_capacity(READ_BUFFER),
        app,
        stop,
        timer: Box::pin(tokio::time::sleep(HEADER_TIMEOUT)),
        stopping: Box::pin(async move { stopped(&mut on_stop).await }),
    };
    if let Next::Hyper = conn.run().await {
        let Conn {
            stream,
            buf,
            app,
            stop,
            ..
        } = conn;
        serve_hyper(Rewind::new(buf.freeze(), stream), app, stop).await;
    }
}

struct Conn {
    stream: TcpStream,
    /// Bytes read and not yet parsed (the start of the next request head).
    buf: BytesMut,
    app: App,
    stop: watch::Receiver<bool>,
    /// The header timeout, moved forward for each request head (later deadlines only
    /// update the registered timer; no new registration per request).
    timer: Pin<Box<Sleep>>,
    /// Resolves once shutdown begins; registered once per connection.
    stopping: Pin<Box<dyn Future<Output = ()> + Send>>,
}

/// How a connection goes on.
enum Next {
    /// Close it.
    Close,
    /// hyper serves the rest (starting with the buffered bytes).
    Hyper,
}

impl Conn {
    async fn run(&mut self) -> Next {
        loop {
            let (request, keep_alive) = match self.read_head().await {
                Ok(head) => head,
                Err(next) => return next,
            };
            match self.respond(request, keep_alive).await {
                Ok(true) if !*self.stop.borrow() => {}
                Ok(_) => {
                    let _ = self.stream.shutdown().await;
                    return Next::Close;
                }
                Err(e) => {
                    tracing::debug!("connection ended: {e}");
                    return Next::Close;
                }
            }
        }
    }

    /// Reads until the buffer starts with a whole request head. The header timeout runs
    /// from the first wait; an idle connection closes when shutdown begins.
    async fn read_head(&mut self) -> Result<(http::Request<parse::NoBody>, bool), Next> {
        self.timer.as_mut().reset(Instant::now() + HEADER_TIMEOUT);
        loop {
            if !self.buf.is_empty() {
                match parse::parse(&self.buf) {
                    Ok(Some(simple)) => {
                        self.buf.advance(simple.len);
                        return Ok((simple.request, simple.keep_alive));
                    }
                    Ok(None) => {}
                    Err(parse::Other) => return Err(Next::Hyper),
                }
            }
            if self.buf.capacity() - self.buf.len() < 1024 {
                self.buf.reserve(READ_BUFFER);
            }
            let idle = self.buf.is_empty();
            tokio::select! {
                read = self.stream.read_buf(&mut self.buf) => match read {
                    Ok(0) | Err(_) => return Err(Next::Close),
                    Ok(_) => {}
                },
                () = self.timer.as_mut() => {
                    tracing::debug!("read header from client timeout");
                    return Err(Next::Close);
                }
                // Polled to completion at most once: the connection closes right after.
                () = self.stopping.as_mut(), if idle => return Err(Next::Close),
            }
        }
    }

    /// Answers one request. `Ok(true)` when the connection can carry another one.
    async fn respond(
        &mut self,
        request: http::Request<parse::NoBody>,
        keep_alive: bool,
    ) -> std::io::Result<bool> {
        let method = request.method().clone();
        let response = {
            let handling = self.app.handle(request);
            let mut handling = std::pin::pin!(handling);
            if self.buf.is_empty() {
                // As hyper does: while the answer is being made, a client that closes the
                // connection cancels it (the route's future is dropped: a transcode waiting
                // for its encode stops). Bytes that arrive meanwhile are kept.
                loop {
                    tokio::select! {
                        response = handling.as_mut() => break response,
                        read = self.stream.read_buf(&mut self.buf), if self.buf.is_empty() => match read {
                            Ok(0) | Err(_) => return Ok(false),
                            Ok(_) => {}
                        },
                    }
                }
            } else {
                handling.await
            }
        };
        let keep_alive = keep_alive && !*self.stop.borrow();
        let (mut parts, mut body) = response.into_parts();
        let file = match method {
            Method::GET => parts.extensions.remove::<FileBody>(),
            _ => None,
        };
        let len = match &file {
            Some(file) => Some(BodyLen::Known(file.len())),
            None if body.is_end_stream() => None,
            None => Some(
                body.size_hint()
                    .exact()
                    .map_or(BodyLen::Unknown, BodyLen::Known),
            ),
        };
        let Ok(encoded) = encode::encode(
            parts.status,
            parts.version,
            parts.headers,
            &method,
            keep_alive,
            len,
        ) else {
            tracing::warn!("response head cannot be sent; closing the connection");
            return Ok(false);
        };
        let has_body = encoded.framing != Framing::Length(0);
        body::send_all(&self.stream, &encoded.head).await?;
        let complete = match file {
            Some(file) if has_body && encoded.framing == Framing::Length(file.len()) => {
                body::send_file(&self.stream, &file, &mut body).await?;
                true
            }
            _ => body::send_polled(&self.stream, &mut body, encoded.framing).await?,
        };
        // Dropping the body writes the access-log line.
        drop(body);
        Ok(complete && !encoded.last)
    }
}
