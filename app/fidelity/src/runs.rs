//! Real runs kept on disk: `--record FILE` appends each real migration as one JSON line the
//! moment it ends (so an interrupted grid loses nothing), and `--replay FILE` compares the
//! simulator with recorded runs without the lab. With the recording of the published grid in
//! the repository, anyone can check the model against real QEMU on any machine, and a change to
//! the model is measured in seconds rather than an hour of migrations.

use super::grid::Case;
use super::measure::Measurement;
use anyhow::Context as _;
use migralab_sim_core::Trace;
use migralab_sim_core::trace::TraceKind;
use serde::{Deserialize, Serialize};
use std::io::Write as _;
use std::path::Path;

/// One dirty-bitmap sync as the job statistics showed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncPoint {
    /// Milliseconds since the migration started.
    pub t_ms: f64,
    /// `dirty-sync-count` after it.
    pub iteration: u64,
    /// Bytes still dirty after it.
    pub remaining_bytes: u64,
    /// Bytes of RAM sent by then (the first statistics sample after the sync).
    pub processed_bytes: u64,
    /// Auto-converge's throttle, percent.
    pub throttle_pct: u8,
    /// QEMU's dirty rate by then (pages/s over its last period of a second or more; optional:
    /// not every recording has it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dirty_rate_pps: Option<u64>,
}

/// The syncs of `vm` in `trace`, each with the bytes sent by then.
pub fn sync_points(trace: &Trace, vm: &str) -> Vec<SyncPoint> {
    let mut points: Vec<SyncPoint> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    for e in trace.events.iter().filter(|e| e.source == vm) {
        match &e.kind {
            TraceKind::Sync(s) => {
                open.push(points.len());
                points.push(SyncPoint {
                    t_ms: e.t_ms,
                    iteration: s.iteration,
                    remaining_bytes: s.remaining_bytes,
                    processed_bytes: 0,
                    throttle_pct: s.throttle_pct,
                    dirty_rate_pps: None,
                });
            }
            TraceKind::Progress(p) => {
                for i in open.drain(..) {
                    points[i].processed_bytes = p.memory_processed;
                    points[i].dirty_rate_pps = Some(p.dirty_rate_pps);
                }
            }
            _ => {}
        }
    }
    points
}

/// One recorded real migration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRun {
    /// The case's name (see `grid`).
    pub case: String,
    /// Which repetition of the case (1-based).
    pub rep: usize,
    /// When it ran, seconds since the Unix epoch.
    pub at_unix_s: u64,
    /// What it measured.
    pub measurement: Measurement,
    /// Its dirty-bitmap syncs.
    pub syncs: Vec<SyncPoint>,
    /// What the guest's RAM held when it was booted for this case (optional: not every
    /// recording has it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest_memory: Option<GuestMemoryMap>,
}

/// How much of a guest's RAM holds data, from a dump of it (QEMU's `pmemsave`): what the first
/// pass sends as whole pages, and how much of it lies at the top of RAM, above the never-written
/// pages (which the pass crosses in a moment).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuestMemoryMap {
    /// Pages that are not all zeros, MiB.
    pub nonzero_mib: f64,
    /// Of those, the ones above the largest stretch of empty memory, MiB.
    pub top_mib: f64,
    /// Where they lie: pages with data in each MiB of RAM, from the bottom (the first pass's
    /// progress follows it; empty when the recording has only the totals). Written as text,
    /// runs of one count as `count*MiBs`: `"46 224 256*12 133 0 …"`.
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "per_mib_text")]
    pub data_pages_per_mib: Vec<u16>,
    /// Where the workload's files lie: `MiB:pages` runs, in the order the files were allocated
    /// when that is known, else (from a dump alone) in address order. A dump finds them by
    /// content: pages of random bytes that occur more than once (the writer copies one random
    /// buffer over and over). Empty for an idle guest and when the dump did not look for them.
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "runs_text")]
    pub writer_files: Vec<(u64, u16)>,
}

/// `data_pages_per_mib` as a short text: a 512 MiB map is mostly long runs of 0 or 256.
mod per_mib_text {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub fn serialize<S: Serializer>(v: &[u16], s: S) -> Result<S::Ok, S::Error> {
        let mut out: Vec<String> = Vec::new();
        let mut i = 0;
        while i < v.len() {
            let run = v[i..].iter().take_while(|&&n| n == v[i]).count();
            out.push(if run > 1 {
                format!("{}*{run}", v[i])
            } else {
                v[i].to_string()
            });
            i += run;
        }
        s.serialize_str(&out.join(" "))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u16>, D::Error> {
        let text = String::deserialize(d)?;
        let mut v = Vec::new();
        for item in text.split_whitespace() {
            let (n, run) = item.split_once('*').unwrap_or((item, "1"));
            let n: u16 = n
                .parse()
                .map_err(|_| D::Error::custom(format!("bad page count {n:?} in {item:?}")))?;
            let run: usize = run
                .parse()
                .map_err(|_| D::Error::custom(format!("bad run length in {item:?}")))?;
            if n > 256 || run > 1 << 20 {
                return Err(D::Error::custom(format!(
                    "{item:?} is not a MiB's page count"
                )));
            }
            v.extend(std::iter::repeat_n(n, run));
        }
        Ok(v)
    }
}

/// `writer_files` as a short text: `"40:57 41:135 30:30 …"`.
mod runs_text {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub fn serialize<S: Serializer>(v: &[(u64, u16)], s: S) -> Result<S::Ok, S::Error> {
        let out: Vec<String> = v.iter().map(|(mib, n)| format!("{mib}:{n}")).collect();
        s.serialize_str(&out.join(" "))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(u64, u16)>, D::Error> {
        let text = String::deserialize(d)?;
        text.split_whitespace()
            .map(|item| {
                let bad = || D::Error::custom(format!("{item:?} is not MiB:pages"));
                let (mib, n) = item.split_once(':').ok_or_else(bad)?;
                let mib: u64 = mib.parse().map_err(|_| bad())?;
                let n: u16 = n.parse().map_err(|_| bad())?;
                if n > 256 {
                    return Err(bad());
                }
                Ok((mib, n))
            })
            .collect()
    }
}

impl GuestMemoryMap {
    /// A MiB of RAM with fewer non-zero pages than this counts as empty when looking for the
    /// gap (the kernel scatters a few pages everywhere).
    const EMPTY_BELOW: usize = 8;

    /// The map of a raw RAM dump (page 0 first).
    pub fn of_dump(ram: &[u8]) -> GuestMemoryMap {
        let mut writer = WriterPages::default();
        for (mib, chunk) in ram.chunks(1 << 20).enumerate() {
            writer.scan(mib, chunk);
        }
        GuestMemoryMap::of_per_mib(ram.chunks(1 << 20).map(Self::data_pages).collect())
            .with_writer(writer)
    }

    /// The map of a raw RAM dump read from `dump` a MiB at a time (a guest's RAM need not fit
    /// in ours twice), with the bytes it held.
    pub fn of_reader(mut dump: impl std::io::Read) -> std::io::Result<(GuestMemoryMap, u64)> {
        use std::io::Read as _;
        let mut mib = Vec::with_capacity(1 << 20);
        let (mut per_mib, mut bytes) = (Vec::new(), 0u64);
        let mut writer = WriterPages::default();
        loop {
            mib.clear();
            let n = (&mut dump).take(1 << 20).read_to_end(&mut mib)?;
            if n == 0 {
                break;
            }
            bytes += n as u64;
            writer.scan(per_mib.len(), &mib);
            per_mib.push(Self::data_pages(&mib));
        }
        Ok((
            GuestMemoryMap::of_per_mib(per_mib).with_writer(writer),
            bytes,
        ))
    }

    fn with_writer(mut self, writer: WriterPages) -> GuestMemoryMap {
        self.writer_files = writer
            .per_mib(self.data_pages_per_mib.len())
            .into_iter()
            .enumerate()
            .filter(|&(_, n)| n > 0)
            .map(|(mib, n)| (mib as u64, n))
            .collect();
        self
    }

    /// Pages of `mib` that hold something besides zeros.
    fn data_pages(mib: &[u8]) -> usize {
        mib.chunks(4096)
            .filter(|p| p.iter().any(|&b| b != 0))
            .count()
    }

    /// The map from the count of data pages in each MiB.
    fn of_per_mib(per_mib: Vec<usize>) -> GuestMemoryMap {
        // The largest run of (nearly) empty MiB; what lies above it is the top.
        let (mut best, mut start) = ((0, 0), None);
        for (i, &n) in per_mib
            .iter()
            .chain(std::iter::once(&usize::MAX))
            .enumerate()
        {
            match (n < Self::EMPTY_BELOW, start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    if i - s > best.1 - best.0 {
                        best = (s, i);
                    }
                    start = None;
                }
                _ => {}
            }
        }
        let pages_mib = |v: &[usize]| v.iter().sum::<usize>() as f64 / 256.0;
        let top = if best.1 > best.0 {
            pages_mib(&per_mib[best.1.min(per_mib.len())..])
        } else {
            0.0
        };
        GuestMemoryMap {
            nonzero_mib: pages_mib(&per_mib),
            top_mib: top,
            data_pages_per_mib: per_mib.iter().map(|&n| n as u16).collect(),
            writer_files: Vec::new(),
        }
    }
}

/// The workload's pages in a dump, found by content: the guest's writer fills its files by
/// copying one buffer of random bytes (from `/dev/urandom`) again and again, so its pages are
/// random ones that occur more than once. The kernel's memory is neither.
#[derive(Default)]
struct WriterPages {
    /// (MiB, hash of the content) of every random page.
    random: Vec<(usize, u64)>,
}

impl WriterPages {
    /// A page this varied (distinct byte values) is random data, not the kernel's: text,
    /// tables and page-cache copies of files repeat bytes far more.
    const RANDOM_FROM: usize = 200;

    fn scan(&mut self, mib: usize, bytes: &[u8]) {
        use std::hash::{Hash as _, Hasher as _};
        for page in bytes.chunks(4096) {
            let mut seen = [false; 256];
            let mut distinct = 0;
            for &b in page {
                distinct += usize::from(!std::mem::replace(&mut seen[usize::from(b)], true));
            }
            if distinct >= Self::RANDOM_FROM {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                page.hash(&mut h);
                self.random.push((mib, h.finish()));
            }
        }
    }

    fn per_mib(&self, mibs: usize) -> Vec<u16> {
        let mut count = std::collections::BTreeMap::<u64, u32>::new();
        for &(_, h) in &self.random {
            *count.entry(h).or_default() += 1;
        }
        let mut per_mib = vec![0u16; mibs];
        for &(mib, h) in &self.random {
            if count.get(&h).is_some_and(|&n| n >= 2)
                && let Some(n) = per_mib.get_mut(mib)
            {
                *n += 1;
            }
        }
        per_mib
    }
}

/// Where the grid's busy guests keep their writer's files, for recordings whose dumps did not
/// look for them (the published one), in the order the files were allocated (see `docs/src/model/fidelity.md`):
/// one line per guest, its `(ram, working set, rate)` and the dump's map. Every boot of a guest
/// holds the same data in the same place (the kernel is not placed at random), so another dump
/// of the same guest says where that recording's files were.
pub const WRITER_MAPS: &str = include_str!("../../../assets/calibration/labbox-writer-maps.jsonl");

#[derive(Deserialize)]
struct WriterMap {
    ram_mib: u64,
    working_set_mib: u64,
    dirty_rate_mibps: u64,
    guest_memory: GuestMemoryMap,
}

/// Pages of data two boots of one guest may differ by (the recorded boots differ by under a
/// hundred); more, and it is not the same layout.
const SAME_LAYOUT_PAGES: u64 = 256;

/// Pages of data by which two maps differ (MiBs past the end of one count as empty).
fn pages_moved(a: &[u16], b: &[u16]) -> u64 {
    (0..a.len().max(b.len()))
        .map(|i| {
            let (x, y) = (a.get(i).copied(), b.get(i).copied());
            u64::from(x.unwrap_or(0).abs_diff(y.unwrap_or(0)))
        })
        .sum()
}

/// Of the runs' maps with a per-MiB map, the first of the layout most of them share (a guest
/// booted now and then into another layout must not speak for the case). `None` without one.
pub fn most_common_layout<'a>(
    maps: impl Iterator<Item = &'a GuestMemoryMap> + Clone,
) -> Option<&'a GuestMemoryMap> {
    let mapped = maps.filter(|m| !m.data_pages_per_mib.is_empty());
    let share = |m: &GuestMemoryMap| {
        mapped
            .clone()
            .filter(|o| {
                pages_moved(&m.data_pages_per_mib, &o.data_pages_per_mib) <= SAME_LAYOUT_PAGES
            })
            .count()
    };
    // The first of the most shared (`max_by_key` would keep the last).
    mapped
        .clone()
        .fold(None, |best: Option<(&GuestMemoryMap, usize)>, m| {
            let n = share(m);
            match best {
                Some((_, b)) if b >= n => best,
                _ => Some((m, n)),
            }
        })
        .map(|(m, _)| m)
}

/// Give `memory`, a recorded map of `guest` (`Case::guest`) that lacks the writer's files, the
/// ones a later dump of the same guest found in `maps` (lines as in [`WRITER_MAPS`]) — if that
/// dump holds the same data in the same place. Says whether it did.
pub fn fill_writer_files(
    memory: &mut GuestMemoryMap,
    guest: (u64, u64, u64),
    maps: &str,
) -> anyhow::Result<bool> {
    if !memory.writer_files.is_empty() || memory.data_pages_per_mib.is_empty() {
        return Ok(false);
    }
    for (i, line) in maps.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let m: WriterMap = serde_json::from_str(line)
            .with_context(|| format!("labbox-writer-maps.jsonl:{}", i + 1))?;
        if (m.ram_mib, m.working_set_mib, m.dirty_rate_mibps) != guest {
            continue;
        }
        if pages_moved(
            &memory.data_pages_per_mib,
            &m.guest_memory.data_pages_per_mib,
        ) <= SAME_LAYOUT_PAGES
        {
            memory.writer_files = m.guest_memory.writer_files;
            return Ok(true);
        }
    }
    Ok(false)
}

/// Appends runs to a recording, one line each, flushed as they come.
pub struct Recorder {
    file: std::fs::File,
    path: std::path::PathBuf,
}

impl Recorder {
    /// Open (or create) a recording to append to.
    pub fn open(path: &Path) -> anyhow::Result<Recorder> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open {} to record the runs", path.display()))?;
        Ok(Recorder {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Append one run.
    pub fn record(&mut self, run: &RecordedRun) -> anyhow::Result<()> {
        let mut line = serde_json::to_string(run).context("cannot write a run as JSON")?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.sync_data())
            .with_context(|| format!("cannot append to {}", self.path.display()))
    }
}

/// Read a recording: every run, in the order recorded. A line that is not a run is an error
/// naming the file and line (a half-written last line, from a crash, is skipped).
pub fn load(path: &Path) -> anyhow::Result<Vec<RecordedRun>> {
    let text =
        migralab_real::fsutil::read_text_bounded(path, migralab_real::fsutil::Limit::RECORDING)?;
    let lines: Vec<&str> = text.lines().collect();
    let mut runs = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<RecordedRun>(line) {
            Ok(r) => runs.push(r),
            Err(_) if i + 1 == lines.len() && !text.ends_with('\n') => {}
            Err(e) => anyhow::bail!("{}:{}: not a recorded run: {e}", path.display(), i + 1),
        }
    }
    Ok(runs)
}

/// The recorded runs of each case (cases without any are left out; runs of cases not in
/// `cases` are ignored).
pub fn by_case(cases: &[Case], runs: &[RecordedRun]) -> Vec<(Case, Vec<RecordedRun>)> {
    cases
        .iter()
        .filter_map(|c| {
            let mine: Vec<RecordedRun> =
                runs.iter().filter(|r| r.case == c.name).cloned().collect();
            (!mine.is_empty()).then(|| (c.clone(), mine))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn run(case: &str, rep: usize) -> RecordedRun {
        RecordedRun {
            case: case.into(),
            rep,
            at_unix_s: 1_795_680_000,
            measurement: Measurement {
                status: "completed".into(),
                total_ms: 1234.5,
                bytes: 1e8,
                iterations: 3,
                downtime_ms: 61.0,
                max_gap_ms: 120.0,
            },
            syncs: vec![SyncPoint {
                t_ms: 200.0,
                iteration: 1,
                remaining_bytes: 5,
                processed_bytes: 0,
                throttle_pct: 0,
                dirty_rate_pps: Some(12),
            }],
            guest_memory: (rep == 2).then_some(GuestMemoryMap {
                nonzero_mib: 80.5,
                top_mib: 7.25,
                data_pages_per_mib: [vec![256; 70], vec![0; 3], vec![17, 256]].concat(),
                writer_files: vec![(74, 100), (73, 3), (74, 100)],
            }),
        }
    }

    #[test]
    fn a_dump_map_counts_nonzero_pages_and_what_lies_above_the_empty_stretch() {
        // 8 MiB: MiB 0-1 full, MiB 2 has 3 stray pages (still "empty"), 3-5 empty, MiB 6 half
        // full, MiB 7 has one page.
        let mut ram = vec![0u8; 8 << 20];
        let page = |ram: &mut Vec<u8>, mib: usize, p: usize| ram[(mib << 20) + p * 4096 + 17] = 1;
        for p in 0..512 {
            page(&mut ram, p / 256, p % 256);
        }
        for p in [0, 100, 255] {
            page(&mut ram, 2, p);
        }
        for p in 0..128 {
            page(&mut ram, 6, p * 2);
        }
        page(&mut ram, 7, 9);
        let m = GuestMemoryMap::of_dump(&ram);
        assert_eq!(m.nonzero_mib, (512 + 3 + 128 + 1) as f64 / 256.0);
        assert_eq!(m.top_mib, 129.0 / 256.0);
        assert_eq!(m.data_pages_per_mib, [256, 256, 3, 0, 0, 0, 128, 1]);
        // No empty stretch: nothing is "top".
        let full = vec![1u8; 2 << 20];
        assert_eq!(GuestMemoryMap::of_dump(&full).top_mib, 0.0);
        assert_eq!(GuestMemoryMap::of_dump(&full).nonzero_mib, 2.0);
        // Read a MiB at a time, the same map, and the bytes it held (a short last MiB too).
        let (read, bytes) = GuestMemoryMap::of_reader(std::io::Cursor::new(&ram)).unwrap();
        assert_eq!((read, bytes), (m.clone(), ram.len() as u64));
        let short = &full[..(1 << 20) + 4096 * 3];
        let (read, bytes) = GuestMemoryMap::of_reader(short).unwrap();
        assert_eq!(read, GuestMemoryMap::of_dump(short));
        assert_eq!(
            (read.data_pages_per_mib, bytes),
            (vec![256, 3], short.len() as u64)
        );
    }

    #[test]
    fn a_recording_reads_back_what_was_appended_and_survives_a_torn_last_line() {
        let dir = std::env::temp_dir().join(format!("migralab-runs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("runs.jsonl");
        let _ = std::fs::remove_file(&path);
        let mut r = Recorder::open(&path).unwrap();
        r.record(&run("a", 1)).unwrap();
        r.record(&run("a", 2)).unwrap();
        drop(r);
        // A second session appends.
        Recorder::open(&path).unwrap().record(&run("b", 1)).unwrap();
        let back = load(&path).unwrap();
        assert_eq!(back, vec![run("a", 1), run("a", 2), run("b", 1)]);
        // A crash mid-line loses only that line.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(b"{\"case\":\"c\",\"re").unwrap();
        assert_eq!(load(&path).unwrap().len(), 3);
        // Garbage in the middle is an error with the line.
        std::fs::write(&path, "{}\n{\"x\":1}\n").unwrap();
        let e = load(&path).unwrap_err().to_string();
        assert!(e.contains("runs.jsonl:1"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_memory_map_is_written_as_runs_and_read_back() {
        let m = run("x", 2).guest_memory.unwrap();
        let json = serde_json::to_string(&m).unwrap();
        assert!(
            json.contains(r#""data_pages_per_mib":"256*70 0*3 17 256""#),
            "{json}"
        );
        assert!(
            json.contains(r#""writer_files":"74:100 73:3 74:100""#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<GuestMemoryMap>(&json).unwrap(), m);
        // A recording may have only the totals; a damaged map says what is wrong.
        let old: GuestMemoryMap =
            serde_json::from_str(r#"{"nonzero_mib":1.0,"top_mib":0.0}"#).unwrap();
        assert!(old.data_pages_per_mib.is_empty());
        let bad = serde_json::from_str::<GuestMemoryMap>(
            r#"{"nonzero_mib":1.0,"top_mib":0.0,"data_pages_per_mib":"12 300*2"}"#,
        )
        .unwrap_err();
        assert!(bad.to_string().contains("300*2"), "{bad}");
        let bad = serde_json::from_str::<GuestMemoryMap>(
            r#"{"nonzero_mib":1.0,"top_mib":0.0,"writer_files":"3:10 4-5"}"#,
        )
        .unwrap_err();
        assert!(
            bad.to_string().contains("\"4-5\" is not MiB:pages"),
            "{bad}"
        );
    }

    #[test]
    fn a_dump_map_finds_the_writers_files_as_random_pages_that_repeat() {
        // 4 MiB of zeros; a random 2-page buffer at MiB 3 copied to MiB 1 and (one page) MiB 0;
        // a random page that occurs once (the kernel's entropy, say) and a repeated page of
        // text are not the writer's.
        let mut ram = vec![0u8; 4 << 20];
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        let random: Vec<u8> = (0..3 * 4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        let at = |mib: usize, page: usize| (mib << 20) + page * 4096;
        ram[at(3, 0)..at(3, 2)].copy_from_slice(&random[..8192]);
        ram[at(1, 5)..at(1, 7)].copy_from_slice(&random[..8192]);
        ram[at(0, 9)..at(0, 10)].copy_from_slice(&random[4096..8192]);
        ram[at(2, 0)..at(2, 1)].copy_from_slice(&random[8192..]);
        for p in [3, 4] {
            ram[at(2, p)..at(2, p + 1)].copy_from_slice(&b"kernel text ".repeat(342)[..4096]);
        }
        let m = GuestMemoryMap::of_dump(&ram);
        assert_eq!(m.data_pages_per_mib, [1, 2, 3, 2]);
        assert_eq!(m.writer_files, [(0, 1), (1, 2), (3, 2)]);
        let (read, _) = GuestMemoryMap::of_reader(std::io::Cursor::new(&ram)).unwrap();
        assert_eq!(read, m);
    }

    #[test]
    fn the_case_takes_the_layout_most_of_its_runs_were_measured_on() {
        let map = |first: u16, second: u16| GuestMemoryMap {
            nonzero_mib: 2.0,
            top_mib: 0.0,
            data_pages_per_mib: vec![first, second],
            writer_files: Vec::new(),
        };
        let unmapped = GuestMemoryMap {
            data_pages_per_mib: Vec::new(),
            ..map(0, 0)
        };
        // One boot into another layout first, then three of the usual one (a few pages apart).
        let maps = [
            map(0, 0),
            unmapped.clone(),
            map(250, 256),
            map(256, 256),
            map(256, 250),
        ];
        assert_eq!(most_common_layout(maps.iter()), Some(&maps[2]));
        // A tie keeps the first; no map, none.
        assert_eq!(most_common_layout(maps[..3].iter()), Some(&maps[0]));
        assert_eq!(most_common_layout([unmapped].iter()), None);
    }

    #[test]
    fn a_later_dump_gives_its_files_only_to_the_same_guest_with_the_same_data() {
        let mut data = vec![256u16; 10];
        data.extend([0, 0, 7]);
        let recorded = GuestMemoryMap {
            nonzero_mib: 10.0,
            top_mib: 0.0,
            data_pages_per_mib: data.clone(),
            writer_files: Vec::new(),
        };
        let mut later = recorded.clone();
        later.data_pages_per_mib[3] -= 40; // a few pages moved between boots
        later.writer_files = vec![(4, 10), (2, 5)];
        let line = |ws: u64, m: &GuestMemoryMap| {
            format!(
                r#"{{"ram_mib":256,"working_set_mib":{ws},"dirty_rate_mibps":4,"guest_memory":{}}}"#,
                serde_json::to_string(m).unwrap()
            )
        };
        let maps = [line(8, &later), line(16, &later)].join("\n");
        let mut m = recorded.clone();
        assert!(fill_writer_files(&mut m, (256, 16, 4), &maps).unwrap());
        assert_eq!(m.writer_files, [(4, 10), (2, 5)]);
        // Another guest, or the same one booted into another layout: nothing.
        let mut m = recorded.clone();
        assert!(!fill_writer_files(&mut m, (512, 16, 4), &maps).unwrap());
        later.data_pages_per_mib[5] = 0;
        let mut m = recorded.clone();
        assert!(!fill_writer_files(&mut m, (256, 16, 4), &line(16, &later)).unwrap());
        assert!(m.writer_files.is_empty());
        // A damaged line says where.
        let e = fill_writer_files(&mut m, (256, 16, 4), "{}").unwrap_err();
        assert!(e.to_string().contains("labbox-writer-maps.jsonl:1"), "{e}");
    }

    #[test]
    fn runs_are_grouped_by_the_cases_asked_for() {
        let grid = super::super::grid::quick();
        let runs = vec![run(&grid[0].name, 1), run("nope", 1), run(&grid[0].name, 2)];
        let g = by_case(&grid, &runs);
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].0, grid[0]);
        assert_eq!(g[0].1.len(), 2);
    }
}
