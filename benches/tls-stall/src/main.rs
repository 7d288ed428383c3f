//! High-rate reproduction of the TLS stall (docs/testing.md, "The TLS stall") with unpatched
//! tokio 1.54.1 / hyper 1.12.0: `cargo run --release --offline -- SECONDS MAX_SPIN`.
//!
//! Each iteration does what hyper-util 0.1.21's legacy client does for one fresh HTTP/1
//! connection (client.rs connect_to: handshake, spawn the connection task, `tx.ready()`; then
//! try_send_request: `pooled.try_send_request(req)`), over an I/O whose read fails with
//! InvalidData (as tokio-rustls's read of the server's certificate_required alert does) at about
//! the moment the request is handed to the connection. A request promise still pending after
//! 2 s (normal outcomes take microseconds) is counted as a hang.
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Empty;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

#[derive(Default)]
struct Shared {
    failed: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

struct FailIo(Arc<Shared>);

impl Shared {
    fn fail(&self) {
        self.failed.store(true, Ordering::SeqCst);
        if let Some(w) = self.waker.lock().unwrap().take() {
            w.wake();
        }
    }
}

impl AsyncRead for FailIo {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, _: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let s = &self.0;
        if s.failed.load(Ordering::SeqCst) {
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, "received fatal alert: CertificateRequired")));
        }
        *s.waker.lock().unwrap() = Some(cx.waker().clone());
        if s.failed.load(Ordering::SeqCst) {
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, "received fatal alert: CertificateRequired")));
        }
        Poll::Pending
    }
}

impl AsyncWrite for FailIo {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        if self.0.failed.load(Ordering::SeqCst) {
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset")));
        }
        Poll::Ready(Ok(b.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

fn main() {
    let secs: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(60);
    let max_spin: u32 = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let (ok_canceled, ok_err, hangs, iters) = (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
    let (refused, drained) = (AtomicU64::new(0), AtomicU64::new(0));
    let mut held = Vec::new(); // hung promises, kept to re-check later
    let start = Instant::now();
    rt.block_on(async {
        while start.elapsed() < Duration::from_secs(secs) {
            iters.fetch_add(1, Ordering::Relaxed);
            let shared = Arc::new(Shared::default());
            let (mut tx, conn) = hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(TokioIo::new(FailIo(shared.clone())))
                .await
                .unwrap();
            tokio::spawn(async move {
                let _ = conn.with_upgrades().await;
            });
            if tx.ready().await.is_err() {
                continue;
            }
            // The "alert" arrives now; the worker thread reads it while this thread sends.
            shared.fail();
            let spin = fastrand::u32(0..max_spin);
            for _ in 0..spin {
                std::hint::spin_loop();
            }
            let req = hyper::Request::get("/api/v4/user").header("host", "127.0.0.1").body(Empty::new()).unwrap();
            let mut fut = Box::pin(tx.try_send_request(req));
            match tokio::time::timeout(Duration::from_secs(2), &mut fut).await {
                Ok(Ok(_)) => unreachable!("no response possible"),
                Ok(Err(e)) if e.message().is_some() => {
                    let k = format!("{:?}", e.error());
                    if k.contains("not ready") { refused.fetch_add(1, Ordering::Relaxed); } else if k.contains("connection closed") { drained.fetch_add(1, Ordering::Relaxed); }
                    ok_canceled.fetch_add(1, Ordering::Relaxed)
                }
                Ok(Err(_)) => ok_err.fetch_add(1, Ordering::Relaxed),
                Err(_) => {
                    let n = hangs.fetch_add(1, Ordering::Relaxed) + 1;
                    eprintln!("HANG #{n} at iteration {} ({:?}): request promise pending 2 s after the connection failed; sender alive={}", iters.load(Ordering::Relaxed), start.elapsed(), !tx.is_closed());
                    // Permanence check, off the loop: 20 s more with the SendRequest alive (as
                    // hyper-util's `pooled` is alive while it awaits), then drop only the
                    // SendRequest and see whether that releases the promise.
                    held.push(tokio::spawn(async move {
                        let still = tokio::time::timeout(Duration::from_secs(20), &mut fut).await.is_err();
                        drop(tx);
                        let after = tokio::time::timeout(Duration::from_secs(1), fut).await;
                        eprintln!("HANG #{n}: still pending after 22 s with the SendRequest alive: {still}; after dropping only the SendRequest: {:?}",
                            after.map(|r| r.map(|_| ()).map_err(|e| format!("{:?}, request returned: {}", e.error(), e.message().is_some()))));
                    }));
                    n
                }
            };
        }
        for h in held.drain(..) { let _ = h.await; }
    });
    eprintln!(
        "iterations={} canceled(request returned)={} [send refused: {}, dropped by Rx drain: {}, rest: try_recv in recv_msg] error(request consumed)={} HANGS={} in {:?}",
        iters.load(Ordering::Relaxed), ok_canceled.load(Ordering::Relaxed), refused.load(Ordering::Relaxed), drained.load(Ordering::Relaxed), ok_err.load(Ordering::Relaxed), hangs.load(Ordering::Relaxed), start.elapsed()
    );
}
