//! Finding the files a file input's globs match.
//!
//! Each glob is split into the directory before its first wildcard and the
//! rest; that directory is walked, as deep as the rest allows (any depth
//! for `**`, capped at [`MAX_DEPTH`]), and every regular file whose path
//! matches one of the globs and none of the exclusions is returned with its
//! metadata. Symbolic links to files are followed; links to directories
//! are not walked into, so a link cycle cannot trap the walk.

use std::path::{Component, Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// The deepest a `**` walk goes below its base directory.
pub(crate) const MAX_DEPTH: usize = 32;

/// One file found by a scan.
#[derive(Debug)]
pub(crate) struct Found {
    /// The path that matched.
    pub path: PathBuf,
    /// Its metadata (links followed).
    pub meta: std::fs::Metadata,
}

/// A directory or file the walk could not read.
#[derive(Debug)]
pub(crate) struct ScanError {
    /// What could not be read.
    pub path: PathBuf,
    /// Why.
    pub error: std::io::Error,
}

/// The compiled globs of one input.
#[derive(Debug, Clone)]
pub(crate) struct Globs {
    include: GlobSet,
    exclude: GlobSet,
    /// Per glob: the directory to walk and how deep (`None`: a literal path).
    roots: Vec<(PathBuf, Option<usize>)>,
}

/// A glob did not compile (the configuration checks them first).
#[derive(Debug, thiserror::Error)]
#[error("invalid glob: {0}")]
pub struct GlobError(#[from] globset::Error);

impl Globs {
    /// Compiles `paths` and `exclude`.
    pub fn new(paths: &[&str], exclude: &[&str]) -> Result<Globs, GlobError> {
        let set = |globs: &[&str]| -> Result<GlobSet, GlobError> {
            let mut b = GlobSetBuilder::new();
            for g in globs {
                b.add(GlobBuilder::new(g).literal_separator(true).build()?);
            }
            Ok(b.build()?)
        };
        Ok(Globs {
            include: set(paths)?,
            exclude: set(exclude)?,
            roots: paths.iter().map(|p| root_of(p)).collect(),
        })
    }

    /// Whether `path` is one of the input's files.
    pub fn matches(&self, path: &Path) -> bool {
        self.include.is_match(path) && !self.exclude.is_match(path)
    }

    /// Every matching file now, and what could not be read on the way.
    pub fn scan(&self) -> (Vec<Found>, Vec<ScanError>) {
        let mut found = Vec::new();
        let mut errors = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (root, depth) in &self.roots {
            match depth {
                None => self.consider(root, &mut found, &mut errors, &mut seen),
                Some(depth) => self.walk(root, *depth, &mut found, &mut errors, &mut seen),
            }
        }
        (found, errors)
    }

    fn walk(
        &self,
        dir: &Path,
        depth: usize,
        found: &mut Vec<Found>,
        errors: &mut Vec<ScanError>,
        seen: &mut std::collections::HashSet<PathBuf>,
    ) {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            // A directory that does not exist (yet) is no error.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
            Err(error) => {
                errors.push(ScanError {
                    path: dir.to_owned(),
                    error,
                });
                return;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if depth > 1 {
                    self.walk(&path, depth - 1, found, errors, seen);
                }
            } else {
                self.consider(&path, found, errors, seen);
            }
        }
    }

    /// Adds `path` when it is a matching regular file (links followed).
    fn consider(
        &self,
        path: &Path,
        found: &mut Vec<Found>,
        errors: &mut Vec<ScanError>,
        seen: &mut std::collections::HashSet<PathBuf>,
    ) {
        if !self.matches(path) || seen.contains(path) {
            return;
        }
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_file() => {
                seen.insert(path.to_owned());
                found.push(Found {
                    path: path.to_owned(),
                    meta,
                });
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => errors.push(ScanError {
                path: path.to_owned(),
                error,
            }),
        }
    }
}

/// The directory to walk for `glob` and how many levels below it the glob
/// reaches (`None` when the glob has no wildcard: the path itself).
fn root_of(glob: &str) -> (PathBuf, Option<usize>) {
    let is_wild = |s: &str| s.contains(['*', '?', '[', '{']);
    let path = Path::new(glob);
    let mut root = PathBuf::new();
    let mut rest: Vec<&str> = Vec::new();
    for c in path.components() {
        let part = c.as_os_str().to_str().unwrap_or_default();
        if rest.is_empty() && !is_wild(part) {
            root.push(c);
        } else if !matches!(c, Component::RootDir) {
            rest.push(part);
        }
    }
    if rest.is_empty() {
        return (root, None);
    }
    let depth = if rest.iter().any(|p| p.contains("**")) {
        MAX_DEPTH
    } else {
        rest.len()
    };
    (root, Some(depth))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_is_the_directory_before_the_first_wildcard() {
        assert_eq!(
            root_of("/var/log/*.log"),
            (PathBuf::from("/var/log"), Some(1))
        );
        assert_eq!(
            root_of("/var/log/app/**/*.json"),
            (PathBuf::from("/var/log/app"), Some(MAX_DEPTH))
        );
        assert_eq!(
            root_of("/var/log/*/x/*.log"),
            (PathBuf::from("/var/log"), Some(3))
        );
        assert_eq!(
            root_of("/var/log/syslog"),
            (PathBuf::from("/var/log/syslog"), None)
        );
    }

    #[test]
    fn star_stays_in_its_directory_and_double_star_descends() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for p in [
            "a.log",
            "b.txt",
            "sub/c.log",
            "sub/deep/d.json",
            "sub/deep/skip.json",
        ] {
            let p = d.join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, b"x\n").unwrap();
        }
        let star = format!("{}/*.log", d.display());
        let deep = format!("{}/**/*.json", d.display());
        let skip = format!("{}/**/skip.json", d.display());
        let globs = Globs::new(&[&star, &deep], &[&skip]).unwrap();
        let (found, errors) = globs.scan();
        assert!(errors.is_empty(), "{errors:?}");
        let mut names: Vec<String> = found
            .iter()
            .map(|f| f.path.strip_prefix(d).unwrap().display().to_string())
            .collect();
        names.sort();
        assert_eq!(names, ["a.log", "sub/deep/d.json"]);
    }

    #[test]
    fn a_missing_directory_is_no_error() {
        let globs = Globs::new(&["/nonexistent-hark/**/*.log"], &[]).unwrap();
        let (found, errors) = globs.scan();
        assert!(found.is_empty() && errors.is_empty());
    }
}
