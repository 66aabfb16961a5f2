//! Starting the `astrolake` binary of this build as a server, for the
//! services tests and the HTTP benchmark (`#[path]`-included there).
#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `astrolake serve`, killed when dropped.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free loopback address `127.0.0.1:PORT`.
pub fn free_bind() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("127.0.0.1:{port}")
}

/// Start `astrolake serve` on `catalog` at `bind` with the extra
/// environment `env`; returns once it accepts connections.
pub fn serve_at(catalog: &Path, bind: &str, env: &[(&str, &str)]) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_astrolake"))
        .args([
            "serve",
            "--catalog",
            &catalog.to_string_lossy(),
            "--bind",
            bind,
        ])
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let t0 = Instant::now();
    while std::net::TcpStream::connect(bind).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

/// Start `astrolake serve` on a free port; returns it and the TAP base
/// URL (`http://127.0.0.1:PORT/tap`).
pub fn serve(catalog: &Path, env: &[(&str, &str)]) -> (Server, String) {
    let bind = free_bind();
    let server = serve_at(catalog, &bind, env);
    (server, format!("http://{bind}/tap"))
}

/// Build a synthetic catalogue of `rows` stars at `catalog`
/// (`astrolake synth`).
pub fn synth(catalog: &Path, rows: u64) {
    let st = Command::new(env!("CARGO_BIN_EXE_astrolake"))
        .args([
            "synth",
            "--catalog",
            &catalog.to_string_lossy(),
            "--rows",
            &rows.to_string(),
            "--no-progress",
        ])
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
}

/// Start `astrolake serve` on a free port with its stderr in `log` and,
/// when `max_address_space` is given, its address space limited to that
/// many bytes (`ulimit -v`: a request that would exhaust memory kills the
/// server, which the test then sees, instead of the machine). Returns the
/// server and its `127.0.0.1:PORT` once it accepts connections.
pub fn serve_logged(
    catalog: &Path,
    env: &[(&str, &str)],
    log: &Path,
    max_address_space: Option<u64>,
) -> (Server, String) {
    let bind = free_bind();
    let serve = [
        "serve",
        "--catalog",
        &catalog.to_string_lossy(),
        "--bind",
        &bind,
    ];
    let mut cmd = match max_address_space {
        Some(bytes) => {
            let mut c = Command::new("sh");
            c.args([
                "-c",
                &format!("ulimit -v {} && exec \"$0\" \"$@\"", bytes / 1024),
                env!("CARGO_BIN_EXE_astrolake"),
            ]);
            c
        }
        None => Command::new(env!("CARGO_BIN_EXE_astrolake")),
    };
    let child = cmd
        .args(serve)
        .envs(env.iter().copied())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    let t0 = Instant::now();
    while std::net::TcpStream::connect(&bind).is_err() {
        if let Ok(Some(st)) = server.0.try_wait() {
            panic!(
                "server exited at start ({st}): {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (server, bind)
}
