//! An ingest killed with SIGKILL (in either phase) leaves the previous
//! version of the table readable and intact; the next ingest cleans up.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn astrolake() -> Command {
    Command::new(env!("CARGO_BIN_EXE_astrolake"))
}

fn run(args: &[&str]) -> String {
    let out = astrolake().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "astrolake {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn snapshot(root: &Path) -> (String, String, Vec<(String, u64)>) {
    let q = run(&[
        "query",
        "--catalog",
        &root.to_string_lossy(),
        "SELECT COUNT(*) AS n, SUM(MOD(source_id, 1000003)) AS s, MIN(ra) AS r, MAX(dec) AS d FROM gaia.gaia_source",
    ]);
    let t = root.join("gaia/gaia_source");
    let props = std::fs::read_to_string(t.join("hats.properties")).unwrap();
    let mut files = Vec::new();
    let mut stack = vec![t.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push((
                    p.strip_prefix(&t).unwrap().to_string_lossy().to_string(),
                    std::fs::metadata(&p).unwrap().len(),
                ));
            }
        }
    }
    files.sort();
    (q, props, files)
}

/// Whether any file under `dir` has a name ending in `suffix`.
fn has_file(dir: &Path, suffix: &str) -> bool {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return false;
    };
    rd.flatten().any(|e| {
        let p = e.path();
        if p.is_dir() {
            has_file(&p, suffix)
        } else {
            p.to_string_lossy().ends_with(suffix)
        }
    })
}

fn kill_when(root: &Path, suffix: &str, in_spill: bool) {
    let mut child = astrolake()
        .args([
            "synth",
            "--catalog",
            &root.to_string_lossy(),
            "--rows",
            "4000000",
            "--seed",
            "7",
            "--tables",
            "gaia_source",
            "--max-rows",
            "50000",
            "--no-progress",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let staging = root.join("gaia/.staging");
    let start = Instant::now();
    loop {
        let hit = std::fs::read_dir(&staging).map(|rd| {
            rd.flatten().any(|e| {
                let name = e.file_name().to_string_lossy().to_string();
                name.ends_with(".spill") == in_spill && has_file(&e.path(), suffix)
            })
        });
        if hit.unwrap_or(false) {
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the ingest finished ({status}) before it could be killed");
        }
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "ingest never reached the phase"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

#[test]
fn sigkill_midway_leaves_the_previous_table_intact() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    run(&[
        "synth",
        "--catalog",
        &root.to_string_lossy(),
        "--rows",
        "300000",
        "--tables",
        "gaia_source",
        "--max-rows",
        "50000",
        "--no-progress",
    ]);
    let before = snapshot(root);
    assert!(before.0.contains("300000"), "{}", before.0);

    // Killed while spilling (phase 1), then while writing partitions (phase 2).
    kill_when(root, ".arrows", true);
    assert_eq!(snapshot(root), before, "after a kill in phase 1");
    kill_when(root, ".parquet", false);
    assert_eq!(snapshot(root), before, "after a kill in phase 2");
    assert!(
        has_file(&root.join("gaia/.staging"), ".parquet"),
        "the killed ingest's staging is still there"
    );

    // The next ingest removes the leftovers and publishes.
    run(&[
        "synth",
        "--catalog",
        &root.to_string_lossy(),
        "--rows",
        "200000",
        "--seed",
        "3",
        "--tables",
        "gaia_source",
        "--max-rows",
        "50000",
        "--no-progress",
    ]);
    let after = snapshot(root);
    assert!(after.0.contains("200000"), "{}", after.0);
    assert_eq!(
        std::fs::read_dir(root.join("gaia/.staging"))
            .unwrap()
            .count(),
        0
    );
}
