//! What the integration tests share: a small real executor and the
//! xmllint check.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use astrolake_uws::{Config, Executor, JobContext, JobFailure, JobResult};
use futures::future::BoxFuture;

/// Counts how many executions were dropped before they finished.
struct DropGuard(Arc<AtomicUsize>, bool);

impl Drop for DropGuard {
    fn drop(&mut self) {
        if !self.1 {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// A real executor driven by the job's parameters:
///
/// - `SLEEP=ms`: sleep that long first;
/// - `MODE=write` (default): write the TEXT parameter to `out.txt`
///   (result `result`, text/plain) and, when UPLOAD is `table,param:NAME`,
///   copy the upload NAME to `upload.txt` (result `upload`);
/// - `MODE=fail`: fail with MESSAGE; `MODE=faildoc`: fail with MESSAGE and
///   an error VOTable; `MODE=forever`: never finish; `MODE=panic`: panic;
///   `MODE=nofile`: claim a result it did not write.
#[derive(Clone, Default)]
pub struct TestExecutor {
    /// Executions started.
    pub started: Arc<AtomicUsize>,
    /// Executions dropped before they finished.
    pub dropped: Arc<AtomicUsize>,
}

impl Executor for TestExecutor {
    fn execute(&self, job: JobContext) -> BoxFuture<'static, Result<Vec<JobResult>, JobFailure>> {
        self.started.fetch_add(1, Ordering::SeqCst);
        let dropped = self.dropped.clone();
        Box::pin(async move {
            let mut guard = DropGuard(dropped, false);
            let ms: u64 = job
                .parameter("SLEEP")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            if ms > 0 {
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            let mode = job.parameter("MODE").unwrap_or("write").to_string();
            let message = job.parameter("MESSAGE").unwrap_or("failed").to_string();
            let result = match mode.as_str() {
                "fail" => Err(JobFailure::new(message)),
                "faildoc" => Err(JobFailure::new(message.clone()).with_document(
                    format!(
                        "<?xml version=\"1.0\"?><VOTABLE><RESOURCE type=\"results\">\
                         <INFO name=\"QUERY_STATUS\" value=\"ERROR\">{message}</INFO>\
                         </RESOURCE></VOTABLE>"
                    ),
                    "application/x-votable+xml",
                )),
                "forever" => {
                    futures::future::pending::<()>().await;
                    unreachable!()
                }
                "panic" => panic!("the test executor panics"),
                "nofile" => Ok(vec![JobResult::new("result", "missing.txt", "text/plain")]),
                _ => {
                    let text = job.parameter("TEXT").unwrap_or("").to_string();
                    tokio::fs::write(job.dir.join("out.txt"), text)
                        .await
                        .map_err(|e| JobFailure::new(e.to_string()))?;
                    let mut results = vec![JobResult::new("result", "out.txt", "text/plain")];
                    if let Some(upload) = job.parameter("UPLOAD") {
                        // TAP style: UPLOAD=table,param:part
                        let name = upload.split("param:").last().unwrap_or(upload);
                        let path = job
                            .upload(name)
                            .ok_or_else(|| JobFailure::new(format!("no upload {name}")))?;
                        tokio::fs::copy(path, job.dir.join("upload.txt"))
                            .await
                            .map_err(|e| JobFailure::new(e.to_string()))?;
                        results.push(JobResult::new(
                            "upload",
                            "upload.txt",
                            "application/x-votable+xml",
                        ));
                    }
                    Ok(results)
                }
            };
            guard.1 = true;
            result
        })
    }
}

/// A configuration for tests: the store in `dir`, a fast reaper.
pub fn config(dir: &Path) -> Config {
    let mut c = Config::new(dir);
    c.reap_interval = Duration::from_millis(100);
    c
}

/// `(name, value)` pairs from string slices.
pub fn params(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

fn schema() -> PathBuf {
    let near = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/xsd/vosi-all.xsd");
    if near.exists() {
        return near;
    }
    let fallback = PathBuf::from("/work/shared/xsd/vosi-all.xsd");
    assert!(
        fallback.exists(),
        "the shared XML schemas are missing ({} and {})",
        near.display(),
        fallback.display()
    );
    fallback
}

/// Validate `doc` with xmllint against vosi-all.xsd (which imports
/// UWS.xsd); panics with xmllint's output and the document when invalid,
/// or when xmllint is missing.
pub fn validate(name: &str, doc: &str) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("uws-documents");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, doc).unwrap();
    let out = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(schema())
        .arg(&path)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run xmllint ({e}): install it (apt-get install libxml2-utils)")
        });
    assert!(
        out.status.success(),
        "xmllint rejects {}:\n{}\n--- document ---\n{doc}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}
