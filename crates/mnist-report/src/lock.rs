//! Advisory file locks for what several runs share: a part's `results.csv`
//! (one writer at a time, each re-reading before its upsert) and a run's
//! folder (one run per folder). The lock is the operating system's, so a run
//! killed with `kill -9` releases it; the lock file itself stays, empty.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::error::{ReportError, Result};

/// A held lock, released when dropped.
#[derive(Debug)]
pub struct Lock {
    _file: File,
    pub path: PathBuf,
}

fn open(path: &Path) -> Result<File> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .and_then(|()| {
            OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(path)
        })
        .map_err(|source| ReportError::Read {
            path: path.to_path_buf(),
            source,
        })
}

/// Waits for the exclusive lock on `path` (created if missing).
pub fn lock(path: &Path) -> Result<Lock> {
    let file = open(path)?;
    file.lock().map_err(|source| ReportError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(Lock {
        _file: file,
        path: path.to_path_buf(),
    })
}

/// Takes the exclusive lock on `path` if no one holds it; `None` if someone
/// does.
pub fn try_lock(path: &Path) -> Result<Option<Lock>> {
    let file = open(path)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(Lock {
            _file: file,
            path: path.to_path_buf(),
        })),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(source)) => Err(ReportError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Removes the temporary files (`.tmp-*`) that a killed writer left in
/// `dir`, those older than `age` (a live writer's are younger). Only call it
/// while holding the lock of what writes there.
pub fn remove_stale_temporaries(dir: &Path, age: Duration) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let is_temporary = entry.file_name().to_string_lossy().starts_with(".tmp-");
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| now.duration_since(t).unwrap_or_default() >= age);
        if is_temporary && old && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
