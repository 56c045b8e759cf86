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
    /// QEMU's dirty rate by then (pages/s over its last period of a second or more; absent in
    /// recordings made before it was kept).
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
    /// What the guest's RAM held when it was booted for this case (absent in recordings made
    /// before it was measured).
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
    /// Where they lie: pages with data in each MiB of RAM, from the bottom (recorded since the
    /// first pass's progress was seen to follow it; empty in older recordings). Written as text,
    /// runs of one count as `count*MiBs`: `"46 224 256*12 133 0 …"`.
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "per_mib_text")]
    pub data_pages_per_mib: Vec<u16>,
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

impl GuestMemoryMap {
    /// A MiB of RAM with fewer non-zero pages than this counts as empty when looking for the
    /// gap (the kernel scatters a few pages everywhere).
    const EMPTY_BELOW: usize = 8;

    /// The map of a raw RAM dump (page 0 first).
    pub fn of_dump(ram: &[u8]) -> GuestMemoryMap {
        GuestMemoryMap::of_per_mib(ram.chunks(1 << 20).map(Self::data_pages).collect())
    }

    /// The map of a raw RAM dump read from `dump` a MiB at a time (a guest's RAM need not fit
    /// in ours twice), with the bytes it held.
    pub fn of_reader(mut dump: impl std::io::Read) -> std::io::Result<(GuestMemoryMap, u64)> {
        use std::io::Read as _;
        let mut mib = Vec::with_capacity(1 << 20);
        let (mut per_mib, mut bytes) = (Vec::new(), 0u64);
        loop {
            mib.clear();
            let n = (&mut dump).take(1 << 20).read_to_end(&mut mib)?;
            if n == 0 {
                break;
            }
            bytes += n as u64;
            per_mib.push(Self::data_pages(&mib));
        }
        Ok((GuestMemoryMap::of_per_mib(per_mib), bytes))
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
        }
    }
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
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the recording {}", path.display()))?;
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
        assert_eq!(serde_json::from_str::<GuestMemoryMap>(&json).unwrap(), m);
        // Older recordings have no map; a damaged one says what is wrong.
        let old: GuestMemoryMap =
            serde_json::from_str(r#"{"nonzero_mib":1.0,"top_mib":0.0}"#).unwrap();
        assert!(old.data_pages_per_mib.is_empty());
        let bad = serde_json::from_str::<GuestMemoryMap>(
            r#"{"nonzero_mib":1.0,"top_mib":0.0,"data_pages_per_mib":"12 300*2"}"#,
        )
        .unwrap_err();
        assert!(bad.to_string().contains("300*2"), "{bad}");
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
