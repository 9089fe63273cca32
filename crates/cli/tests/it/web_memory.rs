//! Memory of the real server (`obc serve` as a child process) under large uploads: whatever is
//! uploaded, up to the 256 MB limit, its peak resident memory (VmHWM) stays under 300 MB.
//! Uploads are spooled to a temporary file as they stream in and read back as a stream; the
//! answer lists at most 100 problems.

use crate::support::Obc;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// Peak resident memory allowed to the server, in KiB.
const PEAK_LIMIT_KIB: u64 = 300 * 1024;
/// The size of each upload.
const UPLOAD_BYTES: u64 = 200 * 1024 * 1024;
const BOUNDARY: &str = "obc-memory-test-boundary";

/// `obc serve` on a fresh database with an admin and their API token; killed when dropped.
struct Server {
    child: Child,
    port: u16,
    token: String,
    _obc: Obc,
}

impl Server {
    fn start() -> Server {
        let obc = Obc::init();
        obc.ok(&["user", "add", "admin", "--role", "admin"]);
        let token = obc.ok(&["user", "token", "admin"]).trim().to_string();
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = obc
            .command(&["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start obc serve");
        let server = Server {
            child,
            port,
            token,
            _obc: obc,
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let start = Instant::now();
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "obc serve did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// The server's peak resident memory so far, in KiB.
    fn peak_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the server's /proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/<pid>/status")
    }

    /// Uploads a sessions file of `UPLOAD_BYTES` bytes, `head` then `row` repeated, written
    /// to the socket as it is made: as the web form does (multipart), or as the API's body.
    /// Returns the status and body of the answer.
    fn upload_sessions(&self, via: Via, head: &[u8], row: &[u8]) -> (u16, String) {
        let (path, content_type, before, after) = match via {
            Via::Form => (
                "/upload/sessions",
                format!("multipart/form-data; boundary={BOUNDARY}"),
                format!(
                    "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"org\"\r\n\r\nsome-provider\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\nContent-Type: text/csv\r\n\r\n"
                ),
                format!("\r\n--{BOUNDARY}--\r\n"),
            ),
            Via::Api => (
                "/api/sessions?org=some-provider",
                "text/csv".to_string(),
                String::new(),
                String::new(),
            ),
        };
        let rows = (UPLOAD_BYTES - head.len() as u64) / row.len() as u64;
        let length =
            before.len() as u64 + head.len() as u64 + rows * row.len() as u64 + after.len() as u64;
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        write!(
            stream,
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n{before}",
            self.token
        )
        .expect("send the request head");
        stream.write_all(head).expect("send the file's head");
        let chunk = row.repeat((1 << 20) / row.len());
        let per_chunk = (chunk.len() / row.len()) as u64;
        let mut left = rows;
        while left > 0 {
            let n = left.min(per_chunk);
            // The server may answer before reading everything (a refusal): stop sending then.
            if stream.write_all(&chunk[..n as usize * row.len()]).is_err() {
                break;
            }
            left -= n;
        }
        let _ = stream.write_all(after.as_bytes());
        let mut reader = BufReader::new(stream);
        let mut status_line = String::new();
        reader.read_line(&mut status_line).expect("a status line");
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("a status: {status_line:?}"));
        let mut rest = String::new();
        let _ = reader.take(4 << 20).read_to_string(&mut rest);
        (status, rest)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How a test uploads.
#[derive(Clone, Copy)]
enum Via {
    /// The upload page's form.
    Form,
    /// `POST /api/sessions` with the file as the body.
    Api,
}

/// Uploads a 200 MB file and checks the answer and the server's peak memory.
fn assert_bounded(via: Via, head: &[u8], row: &[u8], expect_in_page: &str) {
    let server = Server::start();
    let (status, page) = server.upload_sessions(via, head, row);
    let peak = server.peak_kib();
    assert_eq!(status, 422, "{}", &page[..page.len().min(2000)]);
    assert!(
        page.contains(expect_in_page),
        "{}",
        &page[..page.len().min(4000)]
    );
    assert!(
        page.len() < 1 << 20,
        "a rejected upload's page of {} bytes",
        page.len()
    );
    assert!(
        peak < PEAK_LIMIT_KIB,
        "the server peaked at {} MiB for a 200 MB upload",
        peak / 1024
    );
    eprintln!("200 MB upload rejected; server peak {} MiB", peak / 1024);
}

#[test]
fn a_200_mb_upload_of_bad_rows_keeps_the_server_under_300_mb() {
    // Every row names a student no one has: each is a problem; the page lists 100 of them.
    let row = format!(
        "s,no-such-student,T1,2025-01-06,30,attended,{}\n",
        "x".repeat(150)
    );
    assert_bounded(
        Via::Form,
        b"session_id,student_id,tutor_id,date,minutes,status,note\n",
        row.as_bytes(),
        "more problems",
    );
}

#[test]
fn a_200_mb_api_push_of_bad_rows_keeps_the_server_under_300_mb() {
    let row = format!(
        "s,no-such-student,T1,2025-01-06,30,attended,{}\n",
        "x".repeat(150)
    );
    assert_bounded(
        Via::Api,
        b"session_id,student_id,tutor_id,date,minutes,status,note\n",
        row.as_bytes(),
        "no-such-student",
    );
}

#[test]
fn a_200_mb_header_of_empty_columns_keeps_the_server_under_300_mb() {
    assert_bounded(
        Via::Form,
        b"session_id,",
        b",,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,",
        "header",
    );
}
