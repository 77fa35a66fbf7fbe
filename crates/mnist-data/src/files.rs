//! Writing files so that a crash never leaves a half-written one behind.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use crate::error::Result;
use crate::error::io_error;

/// Writes a file through `write` into a temporary file beside it and renames
/// it into place, so a crash never leaves a half-written file under `path`.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<&mut File>) -> std::io::Result<()>,
) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let attempt = || -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
        {
            let mut writer = BufWriter::new(tmp.as_file_mut());
            write(&mut writer)?;
            writer.flush()?;
        }
        readable_by_all(tmp.as_file())?;
        tmp.as_file().sync_all()?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    };
    attempt().map_err(|source| io_error(path, source))
}

/// Writes `bytes` to `path` atomically.
pub fn write_bytes_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomically(path, |w| w.write_all(bytes))
}

/// Makes a temporary file readable like any file a program writes:
/// tempfile creates files readable by their owner only, and these are data,
/// reports and models.
pub fn readable_by_all(file: &File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

/// Runs `run`, which hands a file to a library that may panic on damaged
/// input, and returns the panic's message as an error instead. The panic
/// hook is silenced meanwhile, so no message is printed; one such run at a
/// time in the process, so that each puts back the hook it found.
pub fn without_panics<T>(run: impl FnOnce() -> T) -> std::result::Result<T, String> {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run));
    std::panic::set_hook(hook);
    result.map_err(|panic| {
        (panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "it cannot be decoded".into())
    })
}
