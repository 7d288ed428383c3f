//! For unit tests only: a scripted GitLab on loopback. Each request gets the next canned
//! answer (status, headers, body) in order, or, for a path whose answer is scripted per path,
//! that one; every request line is recorded. Enough HTTP/1.1 for reqwest, nothing more.
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One canned answer.
#[derive(Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn json(status: u16, body: impl Into<String>) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    pub fn header(mut self, k: &str, v: impl Into<String>) -> Answer {
        self.headers.push((k.into(), v.into()));
        self
    }
}

/// The server's address and the request lines (`GET /api/v4/...`) it saw.
pub struct Fake {
    pub base_url: String,
    pub seen: Arc<Mutex<Vec<String>>>,
}

/// Serves `script` (a function of the request line and the number of earlier requests).
pub async fn serve<F>(script: F) -> Fake
where
    F: Fn(&str, usize) -> Answer + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let script = Arc::new(script);
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let log = log.clone();
            let script = script.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    // Read one request head (and any body, which the tests never need).
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(0) + 4;
                    let head = String::from_utf8_lossy(&buf[..end]).to_string();
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    while buf.len() < end + length {
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    buf.drain(..end + length);
                    let line = head.lines().next().unwrap_or_default();
                    let line = line.rsplit_once(' ').map_or(line, |(l, _)| l).to_string();
                    let n = {
                        let mut seen = log.lock().expect("log");
                        seen.push(line.clone());
                        seen.len() - 1
                    };
                    let a = script(&line, n);
                    let mut out = format!(
                        "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
                        a.status,
                        a.body.len()
                    );
                    for (k, v) in &a.headers {
                        out.push_str(&format!("{k}: {v}\r\n"));
                    }
                    out.push_str("\r\n");
                    out.push_str(&a.body);
                    if sock.write_all(out.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Fake {
        base_url: format!("http://{addr}/"),
        seen,
    }
}
