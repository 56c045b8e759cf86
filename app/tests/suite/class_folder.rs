//! The class folder: every student's app writes its own file into one shared folder, at once,
//! and the instructor's reader never sees a lost or torn file; `migralab quiz --student` on
//! several "PCs" (data directories) publishes there.

use crate::common::{ONE_QUESTION, Scratch};
use migralab_app::class::folder::ClassFolderReader;
use migralab_app::class::merge::Students;
use migralab_app::progress::{Attempt, ProfileStore};
use migralab_app::settings::InstructorSettings;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A scratch folder with a class folder `share` in it.
fn with_share(test: &str) -> (Scratch, PathBuf) {
    let dir = Scratch::new("class-folder", test);
    let folder = dir.path("share");
    std::fs::create_dir_all(&folder).unwrap();
    (dir, folder)
}

fn settings_with(folder: &Path) -> InstructorSettings {
    InstructorSettings {
        class_folder: Some(folder.to_path_buf()),
        ..InstructorSettings::default()
    }
}

fn answer(n: u64) -> Attempt {
    Attempt {
        at: 1_700_000_000 + n,
        question: format!("q{n}"),
        objective: "flag-live".into(),
        score: 1.0,
        correct: true,
        quiz: None,
    }
}

#[test]
fn students_writing_at_once_lose_nothing_and_tear_nothing() {
    let (dir, folder) = with_share("concurrent");
    const UPDATES: u64 = 25;
    // Six PCs with a student each, and a seventh PC where two processes answer for one student.
    let mut writers: Vec<(PathBuf, String)> = (0..6)
        .map(|i| (dir.path(&format!("pc{i}")), format!("Siswa {i}")))
        .collect();
    writers.push((dir.path("pc-shared"), "Dewi".into()));
    writers.push((dir.path("pc-shared"), "Dewi".into()));

    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (folder, done) = (folder.clone(), done.clone());
        std::thread::spawn(move || {
            let mut reader = ClassFolderReader::new(&folder);
            let mut reads = 0;
            while !done.load(Ordering::Relaxed) {
                reader.refresh().unwrap();
                let (bad, conflicts) = reader.merge_into(&mut Students::new());
                assert!(bad.is_empty(), "a torn or unreadable file: {bad:?}");
                assert!(conflicts.is_empty(), "{conflicts:?}");
                reads += 1;
            }
            reads
        })
    };
    let threads: Vec<_> = writers
        .iter()
        .enumerate()
        .map(|(w, (data, name))| {
            let store = ProfileStore::for_settings(data, &settings_with(&folder));
            let name = name.clone();
            std::thread::spawn(move || {
                for n in 0..UPDATES {
                    let notice = store
                        .update(&name, |p| p.record_attempt(answer(w as u64 * 1000 + n)))
                        .unwrap();
                    assert_eq!(notice, None);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    done.store(true, Ordering::Relaxed);
    assert!(reader.join().unwrap() > 0);

    // One file per student and PC, each with every answer.
    let mut reader = ClassFolderReader::new(&folder);
    assert!(reader.refresh().unwrap());
    let mut class = Students::new();
    let (bad, conflicts) = reader.merge_into(&mut class);
    assert!(bad.is_empty() && conflicts.is_empty());
    assert_eq!(
        std::fs::read_dir(&folder).unwrap().count(),
        7,
        "temporaries left behind?"
    );
    assert_eq!(class.len(), 7);
    for i in 0..6 {
        assert_eq!(
            class[&format!("Siswa {i}")].attempts.len(),
            UPDATES as usize
        );
    }
    assert_eq!(class["Dewi"].attempts.len(), 2 * UPDATES as usize);
    // Nothing changed since: the next refresh reads nothing.
    assert!(!reader.refresh().unwrap());
}

#[test]
fn quizzes_on_several_pcs_publish_to_the_class_folder_at_once() {
    let (dir, folder) = with_share("processes");
    let bank = dir.path("bank");
    std::fs::create_dir_all(&bank).unwrap();
    std::fs::write(bank.join("one.toml"), ONE_QUESTION).unwrap();
    let children: Vec<_> = (0..4)
        .map(|i| {
            let data = dir.path(&format!("pc{i}"));
            std::fs::create_dir_all(&data).unwrap();
            settings_with(&folder)
                .save(&data.join("instructor.toml"))
                .unwrap();
            let mut child = Command::new(env!("CARGO_BIN_EXE_migralab"))
                .args(["quiz", "--bank", bank.to_str().unwrap(), "--seed", "1"])
                .args(["--student", &format!("Siswa {i}")])
                .env("MIGRALAB_DATA_DIR", &data)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            use std::io::Write as _;
            child.stdin.take().unwrap().write_all(b"a\n").unwrap();
            child
        })
        .collect();
    crate::common::wait_all_succeed(children);
    let mut reader = ClassFolderReader::new(&folder);
    reader.refresh().unwrap();
    let mut class = Students::new();
    let (bad, conflicts) = reader.merge_into(&mut class);
    assert!(
        bad.is_empty() && conflicts.is_empty(),
        "{bad:?} {conflicts:?}"
    );
    assert_eq!(class.len(), 4);
    for p in class.values() {
        assert_eq!(p.attempts.len(), 1);
        assert!(p.quizzes[0].completed.is_some());
    }
}

#[test]
fn a_missing_share_is_said_and_the_answer_is_kept() {
    let dir = Scratch::new("class-folder", "unmounted");
    let data = dir.path("pc");
    let store = ProfileStore::for_settings(&data, &settings_with(&dir.path("not-mounted")));
    let notice = store
        .update("Ana", |p| p.record_attempt(answer(1)))
        .unwrap();
    assert!(
        notice
            .as_deref()
            .is_some_and(|n| n.contains("is not a folder (is the share mounted?)")),
        "{notice:?}"
    );
    assert_eq!(store.load("Ana").unwrap().value.attempts.len(), 1);
    assert!(!dir.path("not-mounted").exists());
}

#[test]
fn students_starting_at_once_on_one_pc_share_its_id() {
    let (dir, folder) = with_share("pc-id");
    let data = dir.path("pc");
    let threads: Vec<_> = (0..6)
        .map(|i| {
            let store = ProfileStore::for_settings(&data, &settings_with(&folder));
            std::thread::spawn(move || {
                store
                    .update(&format!("S{i}"), |p| p.record_attempt(answer(i)))
                    .unwrap()
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), None);
    }
    let id = std::fs::read_to_string(data.join("pc-id")).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let want: Vec<String> = (0..6).map(|i| format!("S{i}.{}.json", id.trim())).collect();
    assert_eq!(names, want);
}

/// Anyone who can write the share can plant a link under a student's file name: the student's
/// PC must not replace the file it points to, and the instructor's must not read it.
#[cfg(unix)]
#[test]
fn links_planted_in_the_class_folder_are_neither_written_through_nor_read() {
    let (dir, folder) = with_share("links");
    let data = dir.path("pc");
    let store = ProfileStore::for_settings(&data, &settings_with(&folder));
    // Learn this PC's file name, then put a link there to a precious file of this PC.
    store
        .update("Ana", |p| p.record_attempt(answer(1)))
        .unwrap();
    let own = std::fs::read_dir(&folder)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::remove_file(&own).unwrap();
    let precious = dir.write("precious.txt", "keep me");
    std::os::unix::fs::symlink(&precious, &own).unwrap();
    let notice = store
        .update("Ana", |p| p.record_attempt(answer(2)))
        .unwrap();
    assert!(
        notice
            .as_deref()
            .is_some_and(|n| n.contains("is not a regular file")),
        "{notice:?}"
    );
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "keep me");
    assert_eq!(
        store.load("Ana").unwrap().value.attempts.len(),
        2,
        "the answer is kept"
    );

    // The instructor's reader lists the link as skipped, without reading what it points to.
    let profile = dir.write("elsewhere.json", r#"{"format": 3, "name": "Eve"}"#);
    std::os::unix::fs::symlink(&profile, folder.join("Eve.0000000000000001.json")).unwrap();
    let mut reader = ClassFolderReader::new(&folder);
    reader.refresh().unwrap();
    let mut class = Students::new();
    let (bad, _) = reader.merge_into(&mut class);
    assert!(class.is_empty(), "{class:?}");
    assert_eq!(bad.len(), 2, "{bad:?}");
    assert!(
        bad.iter().all(|b| b.contains("not a regular file")),
        "{bad:?}"
    );
}
