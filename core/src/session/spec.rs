//! What a session does: the [`SessionSpec`] and its defaults.

use super::{store, STATE_DIR_NAME};
use crate::error::{Error, Result};
use crate::options::Options;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The default naming rule: the input's relative path with the output's extension.
pub const DEFAULT_NAMING: &str = "{path}.{ext}";
/// The default [`SessionSpec::strip_pixels`]: 50 megapixels.
pub const DEFAULT_STRIP_PIXELS: u64 = 50_000_000;

/// What a session does: which inputs, where outputs go, with which options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionSpec {
    /// Input files and directories (walked recursively).
    pub inputs: Vec<PathBuf>,
    /// The output directory. A single input directory maps onto it; with
    /// several inputs each directory keeps its own name below it.
    pub output_dir: PathBuf,
    /// Where the state lives; `None` means `OUTDIR/.pixpress-session`.
    pub state_dir: Option<PathBuf>,
    /// Options in the shared vocabulary, as `(key, value)` pairs for [`Options::set`].
    pub options: Vec<(String, String)>,
    /// Globs a file under an input directory must match (relative to that
    /// directory, such as `**/*.jpg`); empty means the image extensions.
    pub include: Vec<String>,
    /// Globs that exclude files under an input directory.
    pub exclude: Vec<String>,
    /// The output path below `output_dir`: `{path}` (relative path without
    /// extension), `{dir}`, `{name}` (file stem), `{ext}` (the output's
    /// extension), `{srcext}`. Default `{path}.{ext}`.
    pub naming: String,
    /// JPEG outputs of at least this many pixels are encoded in strips whose
    /// progress is checkpointed, so that a crash in the middle of a huge image
    /// resumes at the next strip (the output is then a baseline JPEG with
    /// standard Huffman tables, a few per cent larger). 0 turns this off.
    pub strip_pixels: u64,
    /// Worker threads; 0 means one per core. Not part of the job's identity.
    #[serde(skip)]
    pub jobs: usize,
}

impl Default for SessionSpec {
    fn default() -> Self {
        SessionSpec {
            inputs: Vec::new(),
            output_dir: PathBuf::new(),
            state_dir: None,
            options: Vec::new(),
            include: Vec::new(),
            exclude: Vec::new(),
            naming: DEFAULT_NAMING.to_string(),
            strip_pixels: DEFAULT_STRIP_PIXELS,
            jobs: 0,
        }
    }
}

impl SessionSpec {
    /// The state directory this spec uses.
    pub fn state_dir(&self) -> PathBuf {
        self.state_dir
            .clone()
            .unwrap_or_else(|| self.output_dir.join(STATE_DIR_NAME))
    }

    /// Whether a session already lives in [`state_dir`](Self::state_dir)
    /// (opening this spec then resumes it).
    pub fn has_state(&self) -> bool {
        store::exists(&self.state_dir())
    }

    /// Sets one field from its string form, as every face passes them:
    /// `input` (repeatable), `output`, `state`, `include` and `exclude`
    /// (repeatable globs), `naming`, `strip_pixels`, `jobs`; any other key is an option of
    /// the shared vocabulary ([`Options::set`]), checked here and kept as given.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        match key {
            "input" => self.inputs.push(value.into()),
            "output" => self.output_dir = value.into(),
            "state" => self.state_dir = Some(value.into()),
            "include" => self.include.push(value.into()),
            "exclude" => self.exclude.push(value.into()),
            "naming" => self.naming = value.into(),
            "jobs" => self.jobs = parse_count(key, value)?,
            "strip_pixels" => self.strip_pixels = parse_count(key, value)?,
            _ => {
                Options::default().set(key, value)?;
                self.options.push((key.to_string(), value.to_string()));
            }
        }
        Ok(())
    }

    /// The options, parsed once.
    pub(super) fn parse_options(&self) -> Result<Options> {
        Options::from_pairs(self.options.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// Absolute paths, so the session can be resumed from any directory.
    pub(super) fn absolute(mut self) -> Result<SessionSpec> {
        let absolute = |p: &Path| std::path::absolute(p).map_err(|e| Error::io(p, e));
        self.inputs = self
            .inputs
            .iter()
            .map(|p| absolute(p))
            .collect::<Result<_>>()?;
        self.output_dir = absolute(&self.output_dir)?;
        self.state_dir = self.state_dir.as_deref().map(absolute).transpose()?;
        Ok(self)
    }
}

fn parse_count<T: std::str::FromStr>(key: &str, value: &str) -> Result<T> {
    value
        .trim()
        .parse()
        .map_err(|_| Error::option(key, format!("`{value}` is not a count")))
}
