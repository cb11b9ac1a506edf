//! Reading input files, with errors that name the path.

use pixpress::Error;
use std::path::Path;

/// The bytes of `path`, or an I/O error naming it.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        source: e,
    })
}
