//! The job directories on disk: file names that stay inside them, and
//! their removal.

use std::path::Path;
use std::time::Duration;

/// A file name that stays inside its directory: not empty, no separators,
/// not `.` or `..`, no NUL.
pub(super) fn is_plain_file_name(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '\\', '\0'])
}

/// Remove a job directory, retrying briefly while an aborted task may
/// still be writing into it. What cannot be removed is left for the next
/// start-up's sweep.
pub(super) fn remove_job_dir(dir: &Path) {
    for _ in 0..5 {
        match std::fs::remove_dir_all(dir) {
            Ok(()) => return,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        assert!(is_plain_file_name("result.vot"));
        for bad in ["", ".", "..", "a/b", "a\\b", "/etc/passwd"] {
            assert!(!is_plain_file_name(bad), "{bad}");
        }
    }
}
