//! The whole class, as the instructor's PC sees it: its own students, `class.json` (imports) and
//! the class folder, merged by the rules of [`super::merge`]. The Instruktur tab and
//! `migralab progress report` both gather it this way.

use super::folder::ClassFolderReader;
use super::merge::{Students, merge_profile};
use super::store::ClassStore;
use crate::progress::ProfileStore;
use std::path::Path;

/// The merged class and everything that was not merged or not read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Gathered {
    /// The students.
    pub students: Students,
    /// Conflicts, files that do not read, a class file that does not load.
    pub problems: Vec<String>,
}

/// Gather the class of `data_dir` (if any) and of the class folder `reader` reads (if any,
/// refreshed first).
pub fn gather(data_dir: Option<&Path>, reader: Option<&mut ClassFolderReader>) -> Gathered {
    let mut g = Gathered::default();
    let merge = |g: &mut Gathered, p: &crate::progress::Profile, source: &str| {
        let r = merge_profile(&mut g.students, p, source);
        g.problems
            .extend(r.conflicts.iter().map(ToString::to_string));
    };
    if let Some(dir) = data_dir {
        let local = ProfileStore::new(dir);
        match local.load_all() {
            Ok((profiles, notices)) => {
                g.problems.extend(notices);
                for p in &profiles {
                    merge(&mut g, p, &local.path_of(&p.name).display().to_string());
                }
            }
            Err(e) => g.problems.push(format!("{e:#}")),
        }
        let store = ClassStore::new(dir);
        match store.load() {
            Ok(imported) => {
                let source = store.path().display().to_string();
                for p in imported.values() {
                    merge(&mut g, p, &source);
                }
            }
            Err(e) => g.problems.push(format!("{e:#}")),
        }
    }
    if let Some(reader) = reader {
        if let Err(e) = reader.refresh() {
            g.problems.push(format!("{e:#}"));
        }
        let (bad, conflicts) = reader.merge_into(&mut g.students);
        g.problems.extend(bad);
        g.problems.extend(conflicts.iter().map(ToString::to_string));
    }
    g
}
