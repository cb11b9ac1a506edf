//! Writing output files so that a reader never sees a partial one, and so
//! that nothing planted beside the output (a symlink under the temporary
//! name) can redirect the write.

use crate::error::{Error, Result};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The ending of every temporary file pixpress writes.
pub(crate) const TEMP_SUFFIX: &str = ".pxp-tmp";

/// Whether `name` is a temporary file of a pixpress process that no longer
/// runs (one a crash left behind, safe to remove; a live writer's is not).
pub(crate) fn is_abandoned_temp(name: &std::ffi::OsStr) -> bool {
    let name = name.to_string_lossy();
    let Some(stem) = name.strip_suffix(TEMP_SUFFIX) else {
        return false;
    };
    let pid = stem
        .rsplit('.')
        .next()
        .and_then(|tail| tail.split('-').next())
        .and_then(|pid| pid.parse::<libc::pid_t>().ok());
    match pid {
        Some(pid) if pid > 0 => {
            // SAFETY: `kill` takes plain integers and touches no memory of
            // ours; signal 0 sends nothing and only checks that the process
            // exists, and the guard above keeps `pid` positive (not a group).
            let missing = unsafe { libc::kill(pid, 0) } != 0;
            missing && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
        }
        // Not of our making (or of an older version): leave it alone.
        _ => false,
    }
}

/// How many unpredictable names are tried before giving up (each collision
/// means a file of that random name already exists).
const TEMP_ATTEMPTS: usize = 16;

/// Creates a new, empty temporary file in the directory of `path`, under an
/// unpredictable name (`.NAME.<pid>-<random>.pxp-tmp`), exclusively (`O_EXCL`) and
/// without following a link (`O_NOFOLLOW`): a file or symlink planted under
/// that name makes the attempt fail instead of being written through.
pub(crate) fn create_temp_beside(path: &Path) -> std::io::Result<(File, PathBuf)> {
    let dir = parent_dir(path);
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "no file name"))?;
    let mut last = None;
    for _ in 0..TEMP_ATTEMPTS {
        let temp = dir.join(format!(
            ".{}.{}-{:016x}{TEMP_SUFFIX}",
            name.to_string_lossy(),
            std::process::id(),
            random_u64()?
        ));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&temp)
        {
            Ok(file) => return Ok((file, temp)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no temporary name")))
}

/// 64 bits from the kernel's random source.
fn random_u64() -> std::io::Result<u64> {
    let mut bytes = [0u8; 8];
    // SAFETY: `bytes` is a live, writable stack buffer and `bytes.len()` (8)
    // is exactly its size, so the kernel writes only within it.
    let got = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
    if got != bytes.len() as isize {
        return Err(std::io::Error::last_os_error());
    }
    Ok(u64::from_ne_bytes(bytes))
}

fn parent_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Gives `file` the permission bits and, where the process may, the owner of
/// the regular file `path` replaces (a file rewritten in place keeps both).
fn keep_mode_and_owner(file: &File, path: &Path) -> std::io::Result<()> {
    let Ok(old) = fs::symlink_metadata(path) else {
        return Ok(());
    };
    if !old.file_type().is_file() {
        return Ok(());
    }
    file.set_permissions(fs::Permissions::from_mode(old.mode() & 0o7777))?;
    // Changing the owner needs privileges; keeping the group often does not.
    // Either failing leaves the new file owned by the writer, as `cp` would.
    let _ = std::os::unix::fs::fchown(file, Some(old.uid()), Some(old.gid()));
    Ok(())
}

/// Where the restore record of the output at `output` is kept: `OUTPUT.pxpr`
/// beside it (what `pixpress meta restore OUTPUT` reads).
pub fn restore_record_path(output: &Path) -> PathBuf {
    let mut path = output.as_os_str().to_owned();
    path.push(".pxpr");
    PathBuf::from(path)
}

/// Writes an output file's bytes `data` to `path` and, when there is one,
/// its restore record (`out.metadata.restore_record` of a compression) beside
/// it ([`restore_record_path`]) first, both atomically: an output on disk
/// always has its record.
pub fn write_output(path: &Path, data: &[u8], restore_record: Option<&[u8]>) -> Result<()> {
    if let Some(record) = restore_record {
        write_atomic(&restore_record_path(path), record)?;
    }
    write_atomic(path, data)
}

/// Writes `data` to `path` atomically: a temporary file in the same directory
/// (see [`create_temp_beside`]) is written, synced and renamed over `path`,
/// then the directory is synced. A file that was at `path` keeps its mode and
/// (where permitted) owner; a symlink at `path` is replaced, never written
/// through. On failure the temporary file is removed and `path` is left as it
/// was.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    if path.file_name().is_none() {
        return Err(Error::InvalidArgument(format!(
            "{} names no file",
            path.display()
        )));
    }
    let dir = parent_dir(path);
    let (mut file, temp) = create_temp_beside(path).map_err(|e| Error::io(path, e))?;
    let written = (|| -> std::io::Result<()> {
        keep_mode_and_owner(&file, path)?;
        file.write_all(data)?;
        file.sync_all()?;
        crate::failpoint::hit("output.before_rename");
        fs::rename(&temp, path)?;
        crate::failpoint::hit("output.after_rename");
        // Make the rename itself durable.
        File::open(dir)?.sync_all()
    })();
    written.map_err(|e| {
        let _ = fs::remove_file(&temp);
        Error::io(path, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_leaves_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("pxp-io-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let target = dir.join("out.bin");
        write_atomic(&target, b"hello").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"hello");
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out.bin")]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn failed_write_leaves_nothing() {
        let missing = std::env::temp_dir()
            .join("pxp-no-such-dir-xyz")
            .join("out.bin");
        assert!(write_atomic(&missing, b"x").is_err());
        assert!(!missing.exists());
    }

    #[test]
    fn keeps_the_mode_of_a_file_rewritten_in_place() {
        let dir = std::env::temp_dir().join(format!("pxp-io-mode-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let target = dir.join("photo.jpg");
        fs::write(&target, b"old").unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&target, b"new").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"new");
        assert_eq!(fs::metadata(&target).unwrap().mode() & 0o7777, 0o640);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn replaces_a_symlink_at_the_target_instead_of_writing_through_it() {
        let dir = std::env::temp_dir().join(format!("pxp-io-link-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let victim = dir.join("victim");
        fs::write(&victim, b"keep me").unwrap();
        let target = dir.join("out.webp");
        std::os::unix::fs::symlink(&victim, &target).unwrap();
        write_atomic(&target, b"output").unwrap();
        assert_eq!(fs::read(&victim).unwrap(), b"keep me");
        assert!(fs::symlink_metadata(&target).unwrap().file_type().is_file());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn temporary_names_are_unique() {
        let dir = std::env::temp_dir().join(format!("pxp-io-temp-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let target = dir.join("out.png");
        let (_, a) = create_temp_beside(&target).unwrap();
        let (_, b) = create_temp_beside(&target).unwrap();
        assert_ne!(a, b);
        assert!(a
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(".out.png."));
        // Ours, from a live process: not abandoned.
        assert!(!is_abandoned_temp(a.file_name().unwrap()));
        // A dead process's (pid beyond pid_max) is; names not ours never are.
        assert!(is_abandoned_temp(".x.jpg.2147483646-00ff.pxp-tmp".as_ref()));
        assert!(!is_abandoned_temp("holiday.pxp-tmp".as_ref()));
        fs::remove_dir_all(&dir).unwrap();
    }
}
