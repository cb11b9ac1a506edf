//! The job planner: which files a run over some inputs takes, where each
//! output goes, and which outputs must not be written. `pixpress compress` (a
//! run that keeps no state) and batch sessions use this one planner, so they
//! walk, name and refuse alike.
//!
//! The walk, as documented for users:
//! - files given by name are taken as they are; directories are walked
//!   recursively, taking regular files that match the `include` globs (by
//!   default the [`IMAGE_EXTENSIONS`]) and no `exclude` glob, matched against
//!   the path relative to the directory given;
//! - a symlink is followed, to a file or a directory; each directory is walked
//!   once per input, known by its device and inode, so a link back to a
//!   directory already walked (a loop, or a second way to the same place) is
//!   skipped;
//! - the output directory and the state directory are never walked, found by
//!   what they are (device and inode), not by how their path is spelled;
//! - FIFOs, sockets and devices are never taken (opening one could block);
//! - an entry that cannot be read (a directory without permission, a dangling
//!   link with an image extension) becomes a task that fails with the error;
//!   it never stops the walk.
//!
//! Outputs: the output directory may not be an input directory (outputs would
//! land among, and on, the originals); a single input directory maps onto the
//! output directory, and with several inputs each keeps its own name below
//! it. Two inputs that would write one output both fail. An output that would
//! replace an input (after symlinks: the same device and inode) fails instead
//! of being written.

use crate::error::{Error, ErrorKind, Result};
use crate::format::Format;
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

/// File name extensions taken when walking a directory with no `include` globs.
pub const IMAGE_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "jpe", "jfif", "png", "webp", "avif", "heic", "heif", "hif", "gif", "tif",
    "tiff", "bmp", "mpo",
];

/// Whether `path` ends in one of [`IMAGE_EXTENSIONS`] (any case).
pub fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// One input: the spec input it came from and its path below it (empty when
/// the spec input is the file itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Task {
    pub(crate) root: u32,
    pub(crate) relative: PathBuf,
}

/// A file's identity: device and inode.
type FileId = (u64, u64);

fn file_id(meta: &fs::Metadata) -> FileId {
    (meta.dev(), meta.ino())
}

/// Whether `a` and `b` name one existing file (same device and inode, through
/// any symlink).
pub(crate) fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::metadata(a), fs::metadata(b)) {
        (Ok(a), Ok(b)) => file_id(&a) == file_id(&b),
        _ => false,
    }
}

/// What a run is over, before any file is looked at.
#[derive(Debug, Clone, Copy)]
pub struct PlanSpec<'a> {
    /// Input files and directories.
    pub inputs: &'a [PathBuf],
    /// The output directory.
    pub output_dir: &'a Path,
    /// A directory besides the output directory that the walk skips (a
    /// session's state directory), if any.
    pub skip: Option<&'a Path>,
    /// Globs a file under an input directory must match; empty means the image extensions.
    pub include: &'a [String],
    /// Globs that exclude files under an input directory.
    pub exclude: &'a [String],
    /// The naming rule (see [`crate::SessionSpec::naming`]).
    pub naming: &'a str,
    /// The output extension when the options fix it; `None` when it is known
    /// only once compressed (`format=same` or `auto`).
    pub extension: Option<&'a str>,
}

/// The planned work: every task, where its output goes, and the tasks that
/// must fail before they start (a walk error, or an output shared by two).
#[derive(Debug)]
pub struct Plan {
    inputs: Vec<PathBuf>,
    output_dir: PathBuf,
    naming: String,
    tasks: Vec<Task>,
    problems: BTreeMap<usize, (ErrorKind, String)>,
    /// Input files that lie in the output tree, by identity: the only inputs
    /// an output can land on (others are guarded by their own task's check).
    inputs_in_output: HashSet<FileId>,
}

impl Plan {
    /// Walks the inputs and plans every task. Fails at once (with
    /// [`Error::InvalidArgument`]) when the output directory is an input
    /// directory, and with an I/O error when an input given by name is missing.
    pub fn new(spec: PlanSpec<'_>) -> Result<Plan> {
        refuse_output_as_input(spec.inputs, spec.output_dir)?;
        let selection = Selection::new(spec.include, spec.exclude)?;
        let skip: Vec<FileId> = [Some(spec.output_dir), spec.skip]
            .into_iter()
            .flatten()
            .filter_map(|p| fs::metadata(p).ok().map(|m| file_id(&m)))
            .collect();
        let mut found = Vec::new();
        for (root, input) in spec.inputs.iter().enumerate() {
            let meta = fs::metadata(input).map_err(|e| Error::io(input, e))?;
            if !meta.is_dir() {
                found.push((root as u32, PathBuf::new(), None));
                continue;
            }
            for (relative, problem) in walk(input, &meta, &skip) {
                let taken = problem.is_some() || selection.included(&relative);
                if taken && !selection.excluded(&relative) {
                    found.push((root as u32, relative, problem));
                }
            }
        }
        found.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        let mut problems = BTreeMap::new();
        let mut tasks = Vec::with_capacity(found.len());
        for (i, (root, relative, problem)) in found.into_iter().enumerate() {
            if let Some(message) = problem {
                problems.insert(i, (ErrorKind::Io, message));
            }
            tasks.push(Task { root, relative });
        }
        let mut plan = Plan::from_tasks(spec.inputs, spec.output_dir, spec.naming, tasks)?;
        plan.problems.append(&mut problems);
        plan.mark_collisions(spec.extension);
        Ok(plan)
    }

    /// A plan over tasks listed before (a resumed session's), without walking again.
    pub(crate) fn from_tasks(
        inputs: &[PathBuf],
        output_dir: &Path,
        naming: &str,
        tasks: Vec<Task>,
    ) -> Result<Plan> {
        let mut plan = Plan {
            inputs: inputs.to_vec(),
            output_dir: output_dir.to_path_buf(),
            naming: naming.to_string(),
            tasks,
            problems: BTreeMap::new(),
            inputs_in_output: HashSet::new(),
        };
        plan.inputs_in_output = plan.find_inputs_in_output();
        Ok(plan)
    }

    /// The tasks, in order.
    pub(crate) fn tasks(&self) -> &[Task] {
        &self.tasks
    }

    /// How many files the plan holds.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether the plan holds no file.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// The problems found while planning, by task: its error kind and message.
    pub fn problems(&self) -> &BTreeMap<usize, (ErrorKind, String)> {
        &self.problems
    }

    /// The problem found for task `index` while planning, as the error the
    /// task fails with (what `compress` reports; a session stores it).
    pub fn problem(&self, index: usize) -> Option<Error> {
        let (kind, message) = self.problems.get(&index)?;
        Some(match kind {
            ErrorKind::Io => Error::Io {
                path: self.input(index).display().to_string(),
                source: std::io::Error::other(message.clone()),
            },
            _ => Error::InvalidArgument(message.clone()),
        })
    }

    /// The input file of task `index`.
    pub fn input(&self, index: usize) -> PathBuf {
        let task = &self.tasks[index];
        let root = &self.inputs[task.root as usize];
        if task.relative.as_os_str().is_empty() {
            root.clone()
        } else {
            root.join(&task.relative)
        }
    }

    /// Where task `index` writes when its output is `format`.
    pub fn output(&self, index: usize, format: Format) -> PathBuf {
        self.output_dir
            .join(self.render_name(&self.tasks[index], format.extension()))
    }

    /// Puts task `index`'s output in place and returns its path: named by
    /// [`output`](Plan::output) for its format, refused when it would replace
    /// an input ([`check_output`](Plan::check_output)), its directory
    /// created, written atomically with its restore record beside it
    /// ([`write_output`](crate::write_output)). `compress` and `batch` alike.
    pub fn write_output(&self, index: usize, out: &crate::Compressed) -> Result<PathBuf> {
        let path = self.output(index, out.format);
        self.check_output(index, &path)?;
        put_output(&path, &out.data, out.metadata.restore_record.as_deref())?;
        Ok(path)
    }

    /// Fails when writing `output` for task `index` would replace an input
    /// file (its own or another's, through any symlink).
    pub fn check_output(&self, index: usize, output: &Path) -> Result<()> {
        let Ok(meta) = fs::metadata(output) else {
            return Ok(());
        };
        let own = same_file(&self.input(index), output);
        if own || self.inputs_in_output.contains(&file_id(&meta)) {
            return Err(Error::InvalidArgument(format!(
                "{} is an input{}; an output never replaces an input (choose another output directory or format)",
                output.display(),
                if own {
                    String::new()
                } else {
                    " of this run".to_string()
                }
            )));
        }
        Ok(())
    }

    /// The output path below the output directory for `task`, by the naming rule.
    fn render_name(&self, task: &Task, ext: &str) -> PathBuf {
        render_name(&self.naming, &self.basis_of(task), ext)
    }

    /// What the naming rule renders task `index`'s output name from: its
    /// input's path below its input directory, under that directory's name
    /// when the run has several inputs (the input's own name when it was
    /// given as a file).
    pub fn basis(&self, index: usize) -> PathBuf {
        self.basis_of(&self.tasks[index])
    }

    fn basis_of(&self, task: &Task) -> PathBuf {
        let root = &self.inputs[task.root as usize];
        // A single input directory maps onto the output; with several, each keeps its name.
        if task.relative.as_os_str().is_empty() {
            PathBuf::from(root.file_name().unwrap_or_default())
        } else if self.inputs.len() > 1 {
            PathBuf::from(root.file_name().unwrap_or_default()).join(&task.relative)
        } else {
            task.relative.clone()
        }
    }

    /// Whether task `index`'s input lies inside the output directory, where
    /// an output could land on it.
    pub fn input_in_output(&self, index: usize) -> bool {
        fs::metadata(self.input(index))
            .is_ok_and(|meta| self.inputs_in_output.contains(&file_id(&meta)))
    }

    /// Marks every task whose output path another task also renders to (one
    /// would overwrite the other).
    fn mark_collisions(&mut self, extension: Option<&str>) {
        // Unknown until compressed: a placeholder no real extension equals.
        let ext = extension.unwrap_or("\u{0}ext");
        let mut seen: HashMap<PathBuf, Vec<usize>> = HashMap::new();
        for (i, task) in self.tasks.iter().enumerate() {
            seen.entry(self.render_name(task, ext)).or_default().push(i);
        }
        for (path, indices) in seen.into_iter().filter(|(_, v)| v.len() > 1) {
            let shown = path
                .to_string_lossy()
                .replace('\u{0}', "{")
                .replace("{ext", "{ext}");
            for i in indices {
                self.problems.insert(
                    i,
                    (
                        ErrorKind::InvalidArgument,
                        format!(
                            "{shown} is the output of several inputs; change the naming rule (for example {{path}}.{{srcext}}.{{ext}})"
                        ),
                    ),
                );
            }
        }
    }

    /// The identities of the input files inside the output tree. Only inputs
    /// given inside (or as) the output directory can be there: the walk never
    /// enters the output tree from outside.
    fn find_inputs_in_output(&self) -> HashSet<FileId> {
        let mut ids = HashSet::new();
        let Ok(output) = fs::canonicalize(&self.output_dir) else {
            // No output directory yet: no input can be in it.
            return ids;
        };
        let inside: Vec<bool> = self
            .inputs
            .iter()
            .map(|root| fs::canonicalize(root).is_ok_and(|real| real.starts_with(&output)))
            .collect();
        for (index, task) in self.tasks.iter().enumerate() {
            if inside[task.root as usize] {
                if let Ok(meta) = fs::metadata(self.input(index)) {
                    ids.insert(file_id(&meta));
                }
            }
        }
        ids
    }
}

/// Fails when the output directory is one of the input directories.
fn refuse_output_as_input(inputs: &[PathBuf], output_dir: &Path) -> Result<()> {
    let Ok(output) = fs::metadata(output_dir) else {
        return Ok(());
    };
    for input in inputs {
        if fs::metadata(input).is_ok_and(|m| m.is_dir() && file_id(&m) == file_id(&output)) {
            return Err(Error::InvalidArgument(format!(
                "the output directory {} is the input directory {}: outputs would be written among (and over) the originals; choose another output directory",
                output_dir.display(),
                input.display()
            )));
        }
    }
    Ok(())
}

/// The output path below the output directory for an input whose naming
/// basis is `basis` (see [`Plan::basis`]) and whose output extension is
/// `ext`, by the naming rule `naming` (see [`crate::SessionSpec::naming`]).
/// Only plain components are kept: an empty `{dir}`, a stray `/` or a `..`
/// never leaves the output directory.
pub fn render_name(naming: &str, basis: &Path, ext: &str) -> PathBuf {
    let stem = basis.with_extension("");
    let text = |p: &Path| p.to_string_lossy().into_owned();
    let srcext = basis
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = stem.parent().map(text).unwrap_or_default();
    let name = stem
        .file_name()
        .map(|n| text(Path::new(n)))
        .unwrap_or_default();
    let rendered = naming
        .replace("{path}", &text(&stem))
        .replace("{dir}", &dir)
        .replace("{name}", &name)
        .replace("{srcext}", &srcext)
        .replace("{ext}", ext);
    Path::new(&rendered)
        .components()
        .filter_map(|c| match c {
            Component::Normal(part) => Some(part),
            _ => None,
        })
        .collect()
}

/// Puts an output file in place at `path` as a planned task does, for
/// writers outside a [`Plan`] (a Ray task), which know their own input and
/// the inputs inside the output directory (`inputs`): refused when it would
/// replace one of `inputs` (the same file through any symlink), its
/// directory created, written atomically with its restore record beside it
/// ([`write_output`](crate::write_output)).
pub fn write_planned_output(
    path: &Path,
    data: &[u8],
    restore_record: Option<&[u8]>,
    inputs: &[PathBuf],
) -> Result<()> {
    if inputs.iter().any(|input| same_file(input, path)) {
        return Err(Error::InvalidArgument(format!(
            "{} is an input; an output never replaces an input (choose another output directory or format)",
            path.display()
        )));
    }
    put_output(path, data, restore_record)
}

/// Creates `path`'s directory and writes the output there.
fn put_output(path: &Path, data: &[u8], restore_record: Option<&[u8]>) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    crate::io::write_output(path, data, restore_record)
}

/// Which files under an input directory a walk takes: those matching an
/// `include` glob (by default, those with one of the [`IMAGE_EXTENSIONS`])
/// and no `exclude` glob, by their path relative to that directory.
#[derive(Debug, Clone)]
pub struct Selection {
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
}

impl Selection {
    /// The selection by these globs; fails on a malformed glob.
    pub fn new(include: &[String], exclude: &[String]) -> Result<Selection> {
        Ok(Selection {
            include: glob_set(include)?,
            exclude: glob_set(exclude)?,
        })
    }

    /// Whether the file at `relative` (below its input directory) is taken.
    pub fn takes(&self, relative: &Path) -> bool {
        self.included(relative) && !self.excluded(relative)
    }

    fn included(&self, relative: &Path) -> bool {
        match &self.include {
            Some(set) => set.is_match(relative),
            None => has_image_extension(relative),
        }
    }

    fn excluded(&self, relative: &Path) -> bool {
        self.exclude
            .as_ref()
            .is_some_and(|set| set.is_match(relative))
    }
}

fn glob_set(patterns: &[String]) -> Result<Option<GlobSet>> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = Glob::new(pattern)
            .map_err(|e| Error::InvalidArgument(format!("bad glob `{pattern}`: {e}")))?;
        builder.add(glob);
    }
    builder
        .build()
        .map(Some)
        .map_err(|e| Error::InvalidArgument(e.to_string()))
}

/// Walks the directory `root` (whose metadata is `root_meta`) by the rule in
/// the module documentation: the files below it, relative to it, each with
/// the error that made it unreadable, if any. Iterative, so that a deep tree
/// cannot exhaust the stack.
fn walk(root: &Path, root_meta: &fs::Metadata, skip: &[FileId]) -> Vec<(PathBuf, Option<String>)> {
    let mut found = Vec::new();
    let mut seen: HashSet<FileId> = HashSet::from([file_id(root_meta)]);
    let mut pending = vec![root.to_path_buf()];
    let relative = |path: &Path| path.strip_prefix(root).unwrap_or(path).to_path_buf();
    while let Some(dir) = pending.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) => {
                found.push((relative(&dir), Some(format!("cannot read directory: {e}"))));
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    found.push((relative(&dir), Some(format!("cannot read directory: {e}"))));
                    break;
                }
            };
            let path = entry.path();
            // Follows a symlink; a plain entry's metadata costs no extra call.
            let meta = match entry.file_type() {
                Ok(kind) if kind.is_symlink() => fs::metadata(&path),
                Ok(_) => entry.metadata(),
                Err(e) => Err(e),
            };
            match meta {
                Ok(meta) if meta.is_dir() => {
                    let id = file_id(&meta);
                    if !skip.contains(&id) && seen.insert(id) {
                        pending.push(path);
                    }
                }
                Ok(meta) if meta.is_file() => found.push((relative(&path), None)),
                Ok(_) => {}
                Err(e) if has_image_extension(&path) => {
                    found.push((relative(&path), Some(format!("cannot read: {e}"))));
                }
                Err(_) => {}
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("pxp-plan-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn spec<'a>(inputs: &'a [PathBuf], output_dir: &'a Path) -> PlanSpec<'a> {
        PlanSpec {
            inputs,
            output_dir,
            skip: None,
            include: &[],
            exclude: &[],
            naming: crate::DEFAULT_NAMING,
            extension: Some("webp"),
        }
    }

    #[test]
    fn symlink_loops_are_walked_once_and_links_followed() {
        let dir = temp_dir("loop");
        let photos = dir.join("photos");
        fs::create_dir_all(photos.join("a")).unwrap();
        fs::write(photos.join("a/x.jpg"), b"x").unwrap();
        std::os::unix::fs::symlink(&photos, photos.join("a/loop")).unwrap();
        let other = dir.join("other");
        fs::create_dir_all(&other).unwrap();
        fs::write(other.join("y.png"), b"y").unwrap();
        std::os::unix::fs::symlink(&other, photos.join("linked")).unwrap();
        let inputs = [photos];
        let out = dir.join("out");
        let plan = Plan::new(spec(&inputs, &out)).unwrap();
        let names: Vec<_> = plan.tasks().iter().map(|t| t.relative.clone()).collect();
        assert_eq!(
            names,
            [PathBuf::from("a/x.jpg"), PathBuf::from("linked/y.png")]
        );
        assert!(plan.problems().is_empty());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_output_tree_is_skipped_by_identity_and_never_the_input_tree() {
        let dir = temp_dir("skip");
        let photos = dir.join("photos");
        fs::create_dir_all(photos.join("out")).unwrap();
        fs::write(photos.join("a.jpg"), b"a").unwrap();
        fs::write(photos.join("out/old.webp"), b"o").unwrap();
        let inputs = [photos.clone()];
        // Spelled another way: through a symlink.
        std::os::unix::fs::symlink(photos.join("out"), dir.join("alias")).unwrap();
        let alias = dir.join("alias");
        let plan = Plan::new(spec(&inputs, &alias)).unwrap();
        assert_eq!(plan.len(), 1);
        let same = Plan::new(spec(&inputs, &photos.join("./")));
        assert!(matches!(same, Err(Error::InvalidArgument(_))));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_output_never_replaces_an_input() {
        let dir = temp_dir("replace");
        fs::write(dir.join("x.jpg"), b"x").unwrap();
        let inputs = [dir.join("x.jpg")];
        let plan = Plan::new(spec(&inputs, &dir)).unwrap();
        let output = plan.output(0, Format::Jpeg);
        assert_eq!(output, dir.join("x.jpg"));
        assert!(matches!(
            plan.check_output(0, &output),
            Err(Error::InvalidArgument(_))
        ));
        assert!(plan.check_output(0, &plan.output(0, Format::WebP)).is_ok());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn compress_file_never_replaces_its_input() {
        let dir = temp_dir("compress-file");
        let input = dir.join("x.png");
        fs::write(&input, b"not even an image").unwrap();
        std::os::unix::fs::symlink(&input, dir.join("link.png")).unwrap();
        for output in [
            input.clone(),
            dir.join("link.png"),
            dir.join(".").join("x.png"),
        ] {
            let refused = crate::compress_file(&input, &output, &crate::Options::default());
            assert!(
                matches!(refused, Err(Error::InvalidArgument(_))),
                "{output:?}"
            );
        }
        assert_eq!(fs::read(&input).unwrap(), b"not even an image");
        assert!(same_file(&input, &dir.join("link.png")));
        assert!(!same_file(&input, &dir.join("missing.png")));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unreadable_entries_become_failing_tasks() {
        let dir = temp_dir("dangling");
        let photos = dir.join("photos");
        fs::create_dir_all(&photos).unwrap();
        fs::write(photos.join("a.jpg"), b"a").unwrap();
        std::os::unix::fs::symlink(dir.join("gone.jpg"), photos.join("b.jpg")).unwrap();
        let inputs = [photos];
        let plan = Plan::new(spec(&inputs, &dir.join("out"))).unwrap();
        assert_eq!(plan.len(), 2);
        assert_eq!(plan.problems().keys().copied().collect::<Vec<_>>(), [1]);
        assert_eq!(plan.problems()[&1].0, ErrorKind::Io);
        fs::remove_dir_all(&dir).unwrap();
    }
}
