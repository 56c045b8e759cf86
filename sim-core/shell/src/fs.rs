//! Each host's small virtual filesystem: the files a student writes with `>` / `>>` (and `scp`),
//! plus directories that exist on every lab host. Paths are absolute and normalised; the home
//! directory is `/root`.

use std::collections::BTreeMap;

/// Home directory of root on every host.
pub(super) const HOME: &str = "/root";

/// Largest file the lab lets a student write (bigger writes fail as a full disk would).
pub(super) const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;
/// Largest total of all files of one host.
const MAX_HOST_BYTES: usize = 16 * 1024 * 1024;

/// Directories every lab host has (besides the storage path and the parents of written files).
const DIRS: &[&str] = &[
    "/",
    "/root",
    "/etc",
    "/tmp",
    "/var",
    "/var/lib",
    "/var/lib/libvirt",
    "/var/log",
    "/home",
    "/dev",
];

/// Why a write failed, worded as bash words it (after `bash: PATH: `).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum FsError {
    NoSuchDir,
    IsDir,
    NoSpace,
}

impl FsError {
    pub(super) fn reason(&self) -> &'static str {
        match self {
            FsError::NoSuchDir => "No such file or directory",
            FsError::IsDir => "Is a directory",
            FsError::NoSpace => "No space left on device",
        }
    }
}

/// Files of every host: host name → (absolute path → contents).
#[derive(Debug, Clone, Default)]
pub(super) struct Vfs {
    files: BTreeMap<String, BTreeMap<String, String>>,
    /// Extra directories per host (the storage path).
    dirs: BTreeMap<String, Vec<String>>,
}

/// `path` made absolute against `cwd` and normalised (`.`, `..`, repeated slashes).
pub(super) fn absolute(cwd: &str, path: &str) -> String {
    let joined = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{cwd}/{path}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for p in joined.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The parent directory of an absolute path.
pub(super) fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// The last component of a path.
pub(super) fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

impl Vfs {
    /// A filesystem where every host also has `extra_dir` (the image directory).
    pub(super) fn new(hosts: &[String], extra_dir: &str) -> Vfs {
        let mut v = Vfs::default();
        for h in hosts {
            v.files.insert(h.clone(), BTreeMap::new());
            let mut dirs = Vec::new();
            let mut p = absolute("/", extra_dir);
            while p != "/" {
                dirs.push(p.clone());
                p = parent(&p).to_string();
            }
            v.dirs.insert(h.clone(), dirs);
        }
        v
    }

    /// Is `path` a directory on `host`?
    pub(super) fn is_dir(&self, host: &str, path: &str) -> bool {
        DIRS.contains(&path)
            || self
                .dirs
                .get(host)
                .is_some_and(|d| d.iter().any(|x| x == path))
    }

    /// The contents of a file the student wrote.
    pub(super) fn read(&self, host: &str, path: &str) -> Option<&str> {
        self.files.get(host)?.get(path).map(String::as_str)
    }

    /// Write (or append to) a file.
    pub(super) fn write(
        &mut self,
        host: &str,
        path: &str,
        text: &str,
        append: bool,
    ) -> Result<(), FsError> {
        if self.is_dir(host, path) {
            return Err(FsError::IsDir);
        }
        if !self.is_dir(host, parent(path)) {
            return Err(FsError::NoSuchDir);
        }
        let files = self.files.entry(host.to_string()).or_default();
        let used: usize = files.values().map(String::len).sum();
        let old = files.get(path).map_or(0, String::len);
        let new_len = if append { old + text.len() } else { text.len() };
        if new_len > MAX_FILE_BYTES || used - old + new_len > MAX_HOST_BYTES {
            return Err(FsError::NoSpace);
        }
        let f = files.entry(path.to_string()).or_default();
        if !append {
            f.clear();
        }
        f.push_str(text);
        Ok(())
    }

    /// Remove a file; false if there was none.
    pub(super) fn remove(&mut self, host: &str, path: &str) -> bool {
        self.files
            .get_mut(host)
            .is_some_and(|f| f.remove(path).is_some())
    }

    /// Files directly inside `dir` on `host`, as (name, size).
    pub(super) fn list(&self, host: &str, dir: &str) -> Vec<(String, usize)> {
        let Some(files) = self.files.get(host) else {
            return Vec::new();
        };
        files
            .iter()
            .filter(|(p, _)| parent(p) == dir)
            .map(|(p, c)| (file_name(p).to_string(), c.len()))
            .collect()
    }
}

/// Does `name` match the glob `pattern` (`*`, `?`, `[abc]`, `[a-z]`, `[!x]`)? Linear-time
/// two-pointer matching with backtracking to the last `*` only.
pub(super) fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Hidden files are not matched by a leading wildcard, as in bash.
    if n.first() == Some(&'.') && p.first() != Some(&'.') {
        return false;
    }
    let (mut pi, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ni));
                    pi += 1;
                    continue;
                }
                '?' => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                '[' => {
                    if let Some((matched, len)) = class_match(&p[pi..], n[ni])
                        && matched
                    {
                        pi += len;
                        ni += 1;
                        continue;
                    } else if class_match(&p[pi..], n[ni]).is_none() && n[ni] == '[' {
                        pi += 1;
                        ni += 1;
                        continue;
                    }
                }
                c if c == n[ni] => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, sn)) => {
                pi = sp + 1;
                ni = sn + 1;
                star = Some((sp, sn + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// `[...]` at the start of `p`: whether `c` matches and the class's length, or `None` if the
/// bracket is not closed (then it is a literal `[`).
fn class_match(p: &[char], c: char) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(p.get(1), Some('!' | '^'));
    if negate {
        i += 1;
    }
    let start = i;
    let mut matched = false;
    while i < p.len() {
        if p[i] == ']' && i > start {
            return Some((matched != negate, i + 1));
        }
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|&e| e != ']') {
            if p[i] <= c && c <= p[i + 2] {
                matched = true;
            }
            i += 3;
        } else {
            if p[i] == c {
                matched = true;
            }
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised() {
        assert_eq!(absolute("/root", "caps.xml"), "/root/caps.xml");
        assert_eq!(absolute("/root", "../etc//hosts"), "/etc/hosts");
        assert_eq!(absolute("/root", "/"), "/");
        assert_eq!(parent("/root/a"), "/root");
        assert_eq!(parent("/a"), "/");
    }

    #[test]
    fn globs() {
        assert!(glob_match("*.xml", "caps.xml"));
        assert!(glob_match("caps?.xml", "caps1.xml"));
        assert!(!glob_match("caps?.xml", "caps.xml"));
        assert!(glob_match("caps[12].xml", "caps2.xml"));
        assert!(!glob_match("caps[!12].xml", "caps2.xml"));
        assert!(glob_match("*", "a"));
        assert!(!glob_match("*", ".hidden"));
        assert!(glob_match("a*b*c", "aXbYc"));
        assert!(!glob_match("a*b*c", "aXbY"));
        assert!(glob_match("[", "["));
    }

    #[test]
    fn writes_need_a_directory_and_respect_the_quota() {
        let mut v = Vfs::new(&["h".to_string()], "/var/lib/libvirt/images");
        assert!(v.write("h", "/root/a", "x", false).is_ok());
        assert!(v.write("h", "/root/a", "y", true).is_ok());
        assert_eq!(v.read("h", "/root/a"), Some("xy"));
        assert_eq!(v.write("h", "/nope/a", "x", false), Err(FsError::NoSuchDir));
        assert_eq!(v.write("h", "/root", "x", false), Err(FsError::IsDir));
        assert!(v.is_dir("h", "/var/lib/libvirt/images"));
        let big = "x".repeat(MAX_FILE_BYTES + 1);
        assert_eq!(v.write("h", "/root/b", &big, false), Err(FsError::NoSpace));
        assert_eq!(v.list("h", "/root"), vec![("a".to_string(), 2)]);
    }
}
