//! The webhook's connections: an accept loop over hyper's HTTP/1 server with a connection
//! limit and timeouts, so that connections which idle or send half a request can neither
//! exhaust the app's file descriptors and memory nor keep a real delivery from being answered
//! (axum's own `serve` has no limit and no timeout).
//!
//! - **Header read timeout** ([`WebhookLimits::header_timeout`], 5 s): hyper closes a
//!   connection whose request head has not fully arrived in time. Hyper starts this timer
//!   whenever it waits for a request head, so it also ends keep-alive connections that sit idle
//!   between requests, and a head trickled in byte by byte.
//! - **Idle timeout** ([`WebhookLimits::idle_timeout`], 10 s): a connection that moved no byte
//!   either way for that long while not handling an authorised request is closed (a body that
//!   stalls, a client that stops reading the answer).
//! - **Connection limit** ([`WebhookLimits::max_connections`], 256): a connection beyond it
//!   closes the oldest open connection that is not handling an authorised request. A flood of
//!   idle connections thus holds at most the limit in descriptors and buffers, and the newest
//!   connection (a delivery, which sends its request at once) is served; only when every open
//!   connection is handling an authorised request is the new one refused (closed at once).
//! - **Shutdown**: no new connections; open ones finish the request they are handling (hyper's
//!   graceful shutdown), still bounded by the timeouts above.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::Service as _;
use hyper::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// A request head (request line and headers) may use at most this much buffer: the VA's
/// heads are a few hundred bytes, and 256 connections × 64 KB bounds the memory a flood costs.
const MAX_HEAD_BUF: usize = 64 * 1024;

/// The webhook's limits; [`WebhookLimits::default`] is what the app runs with.
#[derive(Debug, Clone)]
pub struct WebhookLimits {
    /// Open connections at most (see the module docs for what happens beyond).
    pub max_connections: usize,
    /// Time for a request head to arrive, from the connection's start or the previous answer.
    pub header_timeout: Duration,
    /// Time without a byte either way before a connection not handling an authorised request
    /// is closed.
    pub idle_timeout: Duration,
    /// Time to receive an authorised request's body.
    pub body_timeout: Duration,
    /// Largest body accepted (413 beyond).
    pub max_body_bytes: usize,
}

impl Default for WebhookLimits {
    fn default() -> Self {
        WebhookLimits {
            max_connections: 256,
            header_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            max_body_bytes: 2 * 1024 * 1024,
        }
    }
}

/// One connection's state, shared with its requests' handlers (as a request extension).
pub(super) struct Conn {
    epoch: Instant,
    /// Milliseconds since `epoch` of the last byte read or written.
    last_io_ms: AtomicU64,
    /// Authorised requests being handled now (more than one is not possible on HTTP/1, but
    /// counting costs nothing and is obviously right).
    authorised: AtomicUsize,
    /// Cancelled to evict the connection.
    evict: CancellationToken,
}

impl Conn {
    fn new() -> Conn {
        Conn {
            epoch: Instant::now(),
            last_io_ms: AtomicU64::new(0),
            authorised: AtomicUsize::new(0),
            evict: CancellationToken::new(),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_io_ms.store(ms, Ordering::Relaxed);
    }

    fn idle_for(&self) -> Duration {
        self.epoch.elapsed().saturating_sub(Duration::from_millis(
            self.last_io_ms.load(Ordering::Relaxed),
        ))
    }

    fn busy(&self) -> bool {
        self.authorised.load(Ordering::Relaxed) > 0
    }

    /// Marks the connection as handling an authorised request until the guard drops: it is
    /// then neither evicted nor closed as idle.
    pub(super) fn authorised(self: &Arc<Self>) -> Authorised {
        self.authorised.fetch_add(1, Ordering::Relaxed);
        Authorised(Arc::clone(self))
    }
}

pub(super) struct Authorised(Arc<Conn>);

impl Drop for Authorised {
    fn drop(&mut self) {
        self.0.authorised.fetch_sub(1, Ordering::Relaxed);
        // The idle clock restarts when the request is done.
        self.0.touch();
    }
}

/// Open connections by arrival number (so the oldest comes first).
type Registry = Mutex<BTreeMap<u64, Arc<Conn>>>;

/// Accepts and serves connections until `shutdown` is cancelled, then waits for the open
/// ones to finish their requests.
pub(super) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: WebhookLimits,
    shutdown: CancellationToken,
) {
    let registry: Arc<Registry> = Arc::new(Mutex::new(BTreeMap::new()));
    let mut tasks = JoinSet::new();
    let mut next_id: u64 = 0;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            // Reap finished connections, so the set does not grow with every connection.
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of descriptors, say: pause instead of spinning on the error.
                        tracing::warn!(error = %e, "chat webhook: accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                next_id += 1;
                let Some(conn) = admit(&registry, next_id, limits.max_connections) else {
                    tracing::warn!("chat webhook: every connection is busy; refused one");
                    continue;
                };
                tasks.spawn(connection(
                    stream,
                    peer,
                    Registered { registry: Arc::clone(&registry), id: next_id, conn },
                    router.clone(),
                    limits.clone(),
                    shutdown.clone(),
                ));
            }
        }
    }
    while tasks.join_next().await.is_some() {}
}

/// Registers connection `id`, first evicting the oldest connection that is not handling an
/// authorised request when the limit is reached; `None` when all of them are.
fn admit(registry: &Registry, id: u64, max: usize) -> Option<Arc<Conn>> {
    let mut open = registry.lock().unwrap_or_else(|p| p.into_inner());
    if open.len() >= max.max(1) {
        let victim = open.iter().find(|(_, c)| !c.busy()).map(|(id, _)| *id)?;
        if let Some(conn) = open.remove(&victim) {
            conn.evict.cancel();
        }
        tracing::debug!("chat webhook: connection limit reached; closed the oldest idle one");
    }
    let conn = Arc::new(Conn::new());
    open.insert(id, Arc::clone(&conn));
    Some(conn)
}

/// A connection's entry in the registry, removed when its task ends.
struct Registered {
    registry: Arc<Registry>,
    id: u64,
    conn: Arc<Conn>,
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut open = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        open.remove(&self.id);
    }
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    registered: Registered,
    router: Router,
    limits: WebhookLimits,
    shutdown: CancellationToken,
) {
    let conn = Arc::clone(&registered.conn);
    let io = TokioIo::new(Watched {
        inner: stream,
        conn: Arc::clone(&conn),
    });
    let app = TowerToHyperService::new(router);
    let for_requests = Arc::clone(&conn);
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        request.extensions_mut().insert(Arc::clone(&for_requests));
        app.call(request)
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(MAX_HEAD_BUF);
    let served = builder.serve_connection(io, service);
    tokio::pin!(served);
    let mut draining = false;
    loop {
        // While a request is being handled the idle clock does not run; look again later.
        let wait = if conn.busy() {
            limits.idle_timeout
        } else {
            limits.idle_timeout.saturating_sub(conn.idle_for())
        };
        tokio::select! {
            result = served.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "chat webhook: connection ended with an error");
                }
                break;
            }
            _ = conn.evict.cancelled() => break,
            _ = shutdown.cancelled(), if !draining => {
                draining = true;
                served.as_mut().graceful_shutdown();
            }
            _ = tokio::time::sleep(wait) => {
                if !conn.busy() && conn.idle_for() >= limits.idle_timeout {
                    tracing::debug!("chat webhook: closed an idle connection");
                    break;
                }
            }
        }
    }
    // Dropping `served` closes the socket; dropping `registered` leaves the registry.
    drop(registered);
}

/// The TCP stream, noting when a byte moves either way (for the idle timeout).
struct Watched {
    inner: TcpStream,
    conn: Arc<Conn>,
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.conn.touch();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.conn.touch();
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.conn.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_evicts_the_oldest_idle_connection_never_a_busy_one() {
        let registry: Registry = Mutex::new(BTreeMap::new());
        let first = admit(&registry, 1, 2).unwrap();
        let second = admit(&registry, 2, 2).unwrap();
        let _busy = first.authorised();
        // Full: the oldest is busy, so the second goes.
        let third = admit(&registry, 3, 2).unwrap();
        assert!(!first.evict.is_cancelled());
        assert!(second.evict.is_cancelled());
        let _busy_too = third.authorised();
        // Full of busy connections: the newcomer is refused.
        assert!(admit(&registry, 4, 2).is_none());
        assert_eq!(registry.lock().unwrap().len(), 2);
    }
}
