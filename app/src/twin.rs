//! A simulated twin of a real run (issue 23 §2): the scenario of the guest a real migration
//! recorded, built from what libvirt reported while it ran, so that the simulator replays it and
//! then answers "what if" for that guest (`migralab twin`, and the real run's button in the app).
//!
//! What libvirt's job statistics give (QEMU's migration counters, sampled every 100 ms):
//! - the RAM, `memory_total`;
//! - what the guest had written: QEMU's first pass sends every page once, a page with data as a
//!   normal page and a page of zeros as a constant page, so the normal pages of the first pass
//!   are the guest's data (less the kernel's page descriptors, which the format adds itself);
//! - how fast it writes: QEMU's dirty rate, pages newly found dirty per second, computed at a
//!   sync over at least a second (`migration_update_rates` in QEMU's `migration/ram.c`:
//!   `num_dirty_pages_period * 1000 / (end_time - time_last_bitmap_sync)`);
//! - how much it rewrites: what is pending right after each sync past the first pass;
//! - the link: `memory_bps` while the first pass sends;
//! - the setup: when the first page left, against libvirt's `time_elapsed`;
//! - the command's flags, from the recorded `virsh migrate` spec.
//!
//! Everything else (the hosts' software, the device state, the resume) is the format's default,
//! and the output says so value by value.

use anyhow::{Context as _, bail};
use migralab_real::fsutil;
use migralab_sim_core::scenario::{
    HostSpec, LinkSpec, MigrationSpec, ProberSpec, SimSpec, StorageKind, StorageSpec, VmSpec,
    WorkloadSpec,
};
use migralab_sim_core::trace::{MigrationSample, Outcome};
use migralab_sim_core::units::{GIB, MIB, NORMAL_PAGE_WIRE_BYTES, PAGE_SIZE, ZERO_PAGE_WIRE_BYTES};
use migralab_sim_core::{RunOutcome, Scenario, Simulator, Trace};
use std::path::Path;

/// Pages in one MiB.
const PAGES_PER_MIB: u64 = MIB / PAGE_SIZE;

/// A value of the twin and where it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    /// The scenario key (`vm.ram_mib`).
    pub key: &'static str,
    /// Its value as written.
    pub value: String,
    /// Measured (`true`) or assumed.
    pub measured: bool,
    /// From which sample, or why this value.
    pub why: String,
}

/// A twin: the scenario, what each value is, and the real run it reproduces.
#[derive(Debug, Clone)]
pub struct Twin {
    /// The scenario of the guest and the command.
    pub scenario: Scenario,
    /// Where each value comes from.
    pub notes: Vec<Note>,
    /// The real run's outcome.
    pub real: RunOutcome,
    /// The twin's own run (the simulator on `scenario`).
    pub replay: RunOutcome,
}

/// The recorded scenario of a real trace: hosts and the command.
#[derive(Debug, serde::Deserialize)]
struct RealSetup {
    #[serde(default)]
    src: Option<String>,
    #[serde(default)]
    dst: Option<String>,
    #[serde(default)]
    watched: bool,
    migration: MigrationSpec,
}

/// Read a saved trace (a file of at most [`fsutil::Limit::TRACE`] bytes) for a twin.
pub fn read_trace(path: &Path) -> anyhow::Result<Trace> {
    let text = fsutil::read_text_bounded(path, fsutil::Limit::TRACE)
        .map_err(|e| anyhow::anyhow!("cannot read the trace {}: {}", path.display(), e.reason()))?;
    Trace::from_json(&text).with_context(|| {
        format!(
            "{} is not a migralab trace (record one with `migralab migrate --real --out FILE` or \
             `migralab watch --out FILE`)",
            path.display()
        )
    })
}

/// A host name from a libvirt URI, when it is one the scenario format takes.
fn host_of(uri: Option<&str>) -> Option<String> {
    let uri = migralab_real::uri::LibvirtUri::parse(uri?).ok()?;
    let host = uri.host()?;
    let ok = host.len() <= 64
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
    ok.then(|| host.to_string())
}

fn mib(bytes: f64) -> f64 {
    bytes / MIB as f64
}

/// Round to `digits` decimals (what the TOML shows).
fn round(v: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (v * f).round() / f
}

/// The median of `v` (0 for none).
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

impl Twin {
    /// Build the twin of the real run `trace` records. Refused, with the reason, when the trace
    /// is not a real migration that completed, or holds values no guest has.
    pub fn from_trace(trace: &Trace) -> anyhow::Result<Twin> {
        if trace.backend != "real" {
            bail!(
                "this trace is a `{}` run, not a real one: a simulated run's scenario is in the \
                 trace already (a twin is built from `migralab migrate --real --out` or \
                 `migralab watch --out`)",
                migralab_sim_core::term::escape(&trace.backend)
            );
        }
        let setup: RealSetup = serde_json::from_value(trace.scenario.clone()).context(
            "the trace records no migration command (its `scenario` has no valid `migration`)",
        )?;
        let spec = setup.migration;
        let vm = spec.vm.clone();
        let shown = migralab_sim_core::term::escape(&vm);
        let samples: Vec<(f64, &MigrationSample)> =
            trace.samples(&vm).filter(|(t, _)| t.is_finite()).collect();
        if samples.is_empty() {
            bail!("the trace has no job statistics of `{shown}`: it recorded no migration");
        }
        let finished = trace.events.iter().find_map(|e| match &e.kind {
            migralab_sim_core::trace::TraceKind::Finished(o) if e.source == vm => Some((e.t_ms, o)),
            _ => None,
        });
        let Some((
            t_done,
            &Outcome::Completed {
                total_ms,
                downtime_ms,
                memory_bytes,
                disk_bytes,
                iterations,
            },
        )) = finished
        else {
            bail!(
                "the migration of `{shown}` did not complete in this trace: a twin reproduces \
                 a completed run"
            );
        };
        let mut notes = Vec::new();
        let mut note = |key, value: String, measured, why: String| {
            notes.push(Note {
                key,
                value,
                measured,
                why,
            })
        };

        // RAM.
        let (t_total, total) = samples
            .iter()
            .map(|(t, s)| (*t, s.memory_total))
            .max_by_key(|(_, m)| *m)
            .unwrap_or((0.0, 0));
        let ram_mib = total / MIB;
        if ram_mib == 0 {
            bail!("the trace's `memory_total` ({total} bytes) is no guest's RAM");
        }
        note(
            "vm.ram_mib",
            ram_mib.to_string(),
            true,
            format!("memory_total {total} bytes (sample at {t_total:.0} ms)"),
        );
        let ram_pages = ram_mib * PAGES_PER_MIB;
        let total_pages = total / PAGE_SIZE;

        // What the guest had written: the normal pages of the first pass.
        let after_pass = samples.iter().find(|(_, s)| s.iteration >= 2);
        let (t_pass, data_pages, how) = match after_pass {
            Some((t, s)) => {
                let sent = s.normal_pages.saturating_add(s.constant_pages);
                // Past the first pass, what QEMU sent again is the guest's rewritten data.
                let again = sent.saturating_sub(total_pages);
                (
                    *t,
                    s.normal_pages.saturating_sub(again),
                    format!(
                        "the first sample after the first pass (iteration {}): {} normal and {} \
                         constant pages sent, {again} of them again",
                        s.iteration, s.normal_pages, s.constant_pages
                    ),
                )
            }
            None => {
                // The pass ended after the last sample: what it had still to send is known from
                // the bytes the run sent in all, a data page costing a page and its header, a
                // zero page a header and a byte.
                let (t, s) = samples[samples.len() - 1];
                let unsent =
                    total_pages.saturating_sub(s.normal_pages.saturating_add(s.constant_pages));
                let left = memory_bytes.saturating_sub(s.memory_processed) as f64
                    - unsent as f64 * ZERO_PAGE_WIRE_BYTES as f64;
                let unsent_data = (left / (NORMAL_PAGE_WIRE_BYTES - ZERO_PAGE_WIRE_BYTES) as f64)
                    .clamp(0.0, unsent as f64) as u64;
                (
                    t,
                    s.normal_pages.saturating_add(unsent_data),
                    format!(
                        "the last sample, before the first pass ended: {} normal pages, and of \
                         the {unsent} pages it had not sent, the {unsent_data} with data that the \
                         run's {memory_bytes} bytes in all leave room for",
                        s.normal_pages
                    ),
                )
            }
        };
        let firmware_data_pages = 432 * 1024 / PAGE_SIZE;
        let descriptors = VmSpec::descriptor_pages(ram_pages);
        let written_pages = data_pages.saturating_sub(descriptors + firmware_data_pages);
        let mut vm_spec = VmSpec::new(&vm, "source", ram_mib);
        let written =
            round(written_pages as f64 / PAGES_PER_MIB as f64, 2).min(vm_spec.max_written_mib());
        vm_spec.set_written_mib(written);
        note(
            "vm.written_mib",
            format!("{written}"),
            true,
            format!(
                "{how} (at {t_pass:.0} ms), less the page descriptors ({} MiB, 1/64 of RAM) and \
                 the firmware's data (432 KiB, assumed: a pc machine's SeaBIOS and NIC ROM)",
                descriptors / PAGES_PER_MIB
            ),
        );

        // The writer, a hot set (a busy database's pages, rewritten at random), from two things
        // QEMU reports. Its dirty rate counts the pages *newly* dirty over the period since its
        // last computation (at a sync at least 1 s after it): over the long first pass a hot
        // set is rewritten about whole, so that rate times its period is the set. Between two
        // samples of a later pass, what is pending grew by the pages newly dirtied less those
        // sent: a hot set of `S` pages written at `r` pages/s, `D` of them dirty already, adds
        // `r (1 - D / S)` new ones a second, which gives `r`.
        let syncs: Vec<(f64, u64, u64, u8)> = trace
            .syncs(&vm)
            .filter(|(t, _)| t.is_finite())
            .map(|(t, s)| (t, s.iteration, s.remaining_bytes, s.throttle_pct))
            .collect();
        // The job's start: its end less libvirt's time_elapsed, or the command's first phase
        // when the end was recorded later (a run saved after its ping tail).
        let first_phase = trace.events.iter().find_map(|e| match e.kind {
            migralab_sim_core::trace::TraceKind::Phase { .. } if e.source == vm => Some(e.t_ms),
            _ => None,
        });
        let job_start = first_phase.map_or(t_done - total_ms as f64, |t| {
            t.min(t_done - total_ms as f64)
        });
        let mut last_computed = syncs.iter().find(|s| s.1 == 1).map_or(job_start, |s| s.0);
        let mut periods = Vec::new();
        for &(t, iteration, _, throttle) in syncs.iter().filter(|s| s.1 >= 2) {
            let period_s = (t - last_computed) / 1000.0;
            if period_s < 1.0 {
                continue;
            }
            last_computed = t;
            let reported = samples
                .iter()
                .find(|(ts, s)| *ts >= t && s.iteration >= iteration)
                .map(|(ts, s)| (*ts, s.dirty_rate_pps as f64, s.throttle_pct.max(throttle)));
            if let Some((ts, pps, 0)) = reported
                && pps > 0.0
            {
                periods.push((ts, pps, period_s));
            }
        }
        // The set: the most pages a period dirtied (or a sync left pending).
        let from_rate = periods
            .iter()
            .map(|&(t, pps, period)| (t, pps * period))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let from_pending = syncs
            .iter()
            .filter(|s| s.1 >= 2)
            .map(|s| (s.0, (s.2 / PAGE_SIZE) as f64))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let set = match (from_rate, from_pending) {
            (Some(a), Some(b)) => Some(if a.1 >= b.1 { a } else { b }),
            (a, b) => a.or(b),
        }
        .filter(|s| s.1 >= 1.0);
        let link_guess = median(
            samples
                .iter()
                .map(|(_, s)| s.memory_bps)
                .filter(|b| b.is_finite() && *b > 0.0)
                .collect(),
        )
        .max(1.0);
        // QEMU's bitmap, and so what libvirt shows pending, changes only at a sync: what a sync
        // adds is the pages dirtied since the one before that were not pending still.
        let mut rates = Vec::new();
        if let Some((_, set_pages)) = set {
            for pair in syncs.windows(2) {
                let ((t0, _, _, throttle), (t1, iteration, after, _)) = (pair[0], pair[1]);
                let period_s = (t1 - t0) / 1000.0;
                if iteration < 3 || throttle != 0 || !(0.05..=60.0).contains(&period_s) {
                    continue;
                }
                let Some(&(ts, last)) = samples
                    .iter()
                    .rev()
                    .find(|(ts, s)| *ts < t1 && s.iteration < iteration)
                else {
                    continue;
                };
                let speed = if last.memory_bps > 0.0 {
                    last.memory_bps
                } else {
                    link_guess
                };
                let before = (last.memory_remaining as f64 - speed * (t1 - ts) / 1000.0).max(0.0)
                    / PAGE_SIZE as f64;
                let added = (after as f64 / PAGE_SIZE as f64 - before).max(0.0);
                // With most of the set pending, what is new is too few pages to tell.
                let clean = 1.0 - before / set_pages;
                if clean < 0.25 {
                    continue;
                }
                let unique = added / clean;
                if unique < 0.98 * set_pages {
                    rates.push(-(set_pages / period_s) * (1.0 - unique / set_pages).ln());
                }
            }
        }
        let (n_windows, n_periods) = (rates.len(), periods.len());
        let rate_pps = if rates.is_empty() {
            median(periods.iter().map(|p| p.1).collect())
        } else {
            median(rates)
        };
        // Over the first period a hot set of `S` pages dirties `S (1 - e^(-r T / S))` of them:
        // the set is a little more than that count.
        let set = set.map(|(t, pages)| {
            let first = periods
                .first()
                .map(|&(_, pps, period)| (pps * period, period));
            let mut s = pages;
            // (Only with a rate of its own: QEMU's rate over that period is the count itself.)
            if let Some((unique, period)) = first
                && rate_pps > 0.0
                && n_windows > 0
            {
                for _ in 0..20 {
                    let seen = 1.0 - (-rate_pps * period / s).exp();
                    s = (unique / seen.max(1e-9)).max(pages);
                }
            }
            (t, s.min(ram_pages as f64))
        });
        let rate = round(mib(rate_pps * PAGE_SIZE as f64), 3);
        if rate > 0.0 {
            let (set_mib, why) = match set {
                Some((t, pages)) => (
                    ((pages * PAGE_SIZE as f64 / MIB as f64).ceil() as u64).clamp(1, ram_mib),
                    format!(
                        "the most pages newly dirty over one of QEMU's dirty-rate periods (or \
                         left pending by a sync) at {t:.0} ms, as many distinct pages as a hot \
                         set of {pages:.0} pages gives at that rate"
                    ),
                ),
                None => (
                    (rate.ceil() as u64).clamp(1, ram_mib),
                    "assumed: no dirty-rate period or sync past the first pass was seen; a \
                     second's worth of writes"
                        .into(),
                ),
            };
            vm_spec.workload = WorkloadSpec::HotSet {
                set_mib,
                rate_mibps: rate,
            };
            note(
                "vm.workload.rate_mibps",
                format!("{rate}"),
                true,
                if n_windows > 0 {
                    format!(
                        "the median over {n_windows} unthrottled syncs past the second pass of \
                         the rate that dirties, in the sync's period, the pages it added to those \
                         pending (over the share of the set not pending)"
                    )
                } else {
                    format!(
                        "the median of QEMU's dirty rate at {n_periods} unthrottled syncs (no \
                         later pass was sampled)"
                    )
                },
            );
            note(
                "vm.workload.set_mib",
                set_mib.to_string(),
                set.is_some(),
                why,
            );
            note(
                "vm.workload.kind",
                "hot-set".into(),
                false,
                "assumed: a writer rewriting random pages of its set".into(),
            );
        } else {
            note(
                "vm.workload.kind",
                "idle".into(),
                true,
                "QEMU reported no dirty rate: the guest wrote too little to count".into(),
            );
        }

        // The link: what the first pass sent over how long it took (QEMU's counters, from the
        // first sample that had sent anything to the one after the pass), which takes in what
        // crossing zero pages cost this machine; else the median memory_bps.
        let first_pass: Vec<f64> = samples
            .iter()
            .filter(|(_, s)| s.iteration <= 1 && s.memory_bps.is_finite() && s.memory_bps > 0.0)
            .map(|(_, s)| s.memory_bps)
            .collect();
        let n_sending = first_pass.len();
        let bps_median = median(first_pass);
        let from = samples.iter().find(|(_, s)| s.memory_processed > 0);
        // The last sample of the first pass; the one after it when the pass ended the run (a
        // migration without --live sends everything in one pass).
        let to = samples
            .iter()
            .rev()
            .find(|(_, s)| s.iteration <= 1)
            .filter(|_| spec.live)
            .or_else(|| samples.iter().find(|(_, s)| s.iteration >= 2))
            .or_else(|| samples.last());
        let effective = match (from, to) {
            (Some((t0, a)), Some((t1, b))) if t1 - t0 >= 50.0 => {
                let again = b
                    .normal_pages
                    .saturating_add(b.constant_pages)
                    .saturating_sub(total_pages);
                let bytes = b
                    .memory_processed
                    .saturating_sub(a.memory_processed)
                    .saturating_sub(again.saturating_mul(NORMAL_PAGE_WIRE_BYTES));
                Some((bytes as f64 / ((t1 - t0) / 1000.0), *t0, *t1))
            }
            _ => None,
        }
        .filter(|(bps, ..)| *bps > 0.0);
        let link_bps = effective.map_or(bps_median, |e| e.0);
        let link_mibps = if link_bps > 0.0 {
            round(mib(link_bps), 1)
        } else {
            112.0
        };
        let how = match effective {
            Some((_, t0, t1)) => format!(
                "what the first pass sent from {t0:.0} ms to {t1:.0} ms over that time (the \
                 median memory_bps of its {n_sending} samples: {:.1} MiB/s)",
                mib(bps_median)
            ),
            None => format!("the median memory_bps of the first pass's {n_sending} samples"),
        };
        let capped = spec
            .bandwidth_mibps
            .is_some_and(|cap| link_mibps <= cap as f64 * 1.05);
        note(
            "link.bandwidth_mibps",
            format!("{link_mibps}"),
            link_bps > 0.0,
            if link_bps <= 0.0 {
                "assumed: no memory bandwidth was reported during the first pass (1 GbE)".into()
            } else if capped {
                format!(
                    "{how} — the `--bandwidth {}` cap, not the link: the link is at least this \
                     fast, so a what-if above the cap needs the link's real rate",
                    spec.bandwidth_mibps.unwrap_or(0)
                )
            } else {
                how.clone()
            },
        );

        // Setup: from the job's start (its end less libvirt's time_elapsed) to the first page.
        let first_sent = samples
            .iter()
            .position(|(_, s)| s.memory_processed > 0)
            .map(|i| {
                let (t, s) = samples[i];
                // Sending at most at the link's rate, it started no later than this; and after
                // the sample before, which had sent nothing.
                let latest = t - mib(s.memory_processed as f64) / link_mibps * 1000.0;
                let earliest = i.checked_sub(1).map_or(job_start, |j| samples[j].0);
                latest.clamp(earliest.min(t), t)
            });
        let mut sim = SimSpec::default();
        if let Some(t) = first_sent {
            let setup = round((t - job_start).clamp(0.0, 60_000.0), 1);
            sim.setup_ms = setup;
            note(
                "sim.setup_ms",
                format!("{setup}"),
                true,
                format!(
                    "the first page sent (about {t:.0} ms) less the job's start ({job_start:.0} \
                     ms: its first phase, or its end less libvirt's time_elapsed, {total_ms} ms)"
                ),
            );
        }
        note(
            "sim.device_state_kib, sim.announce_ms",
            format!("{}, {}", sim.device_state_kib, sim.announce_ms),
            false,
            "assumed: the format's defaults (libvirt does not report them)".into(),
        );

        // Hosts, storage and the command.
        let src = host_of(setup.src.as_deref()).unwrap_or_else(|| "source".into());
        let mut dst = host_of(setup.dst.as_deref()).unwrap_or_else(|| "destination".into());
        if dst == src {
            dst = format!("{src}-destination");
        }
        vm_spec.host = src.clone();
        let disk_total = samples.iter().map(|(_, s)| s.disk_total).max().unwrap_or(0);
        let copied = spec.copy_storage_all || disk_bytes > 0 || disk_total > 0;
        if copied {
            vm_spec.disk_gib = round(disk_total.max(disk_bytes) as f64 / GIB as f64, 3);
            note(
                "vm.disk_gib",
                format!("{}", vm_spec.disk_gib),
                true,
                "disk_total of the block mirror (--copy-storage-all)".into(),
            );
        }
        let mut migration = spec.clone();
        migration.to = dst.clone();
        migration.start_ms = 0;
        migration.uri_host = None;
        if setup.watched {
            note(
                "migration",
                "--live".into(),
                false,
                "assumed: a watched run records no command, so its flags are virsh's defaults \
                 (--live, and --copy-storage-all when a disk was copied)"
                    .into(),
            );
        } else {
            note(
                "migration",
                spec.virsh_argv()[2..].join(" "),
                true,
                "the command as it was run".into(),
            );
        }
        let scenario = Scenario {
            name: format!("twin-{vm}"),
            title: migralab_sim_core::text::Text {
                id: format!("Kembaran simulasi dari migrasi nyata {vm}"),
                en: format!("Simulated twin of a real migration of {vm}"),
            },
            teaches: migralab_sim_core::text::Text {
                id: "Migrasi yang sama, dengan VM dan perintah yang diukur libvirt; ubah satu \
                     nilai untuk melihat \"bagaimana jika\"."
                    .into(),
                en: "The same migration, with the guest and command libvirt measured; change \
                     one value to see \"what if\"."
                    .into(),
            },
            seed: 1,
            hosts: vec![HostSpec::named(&src), HostSpec::named(&dst)],
            link: LinkSpec {
                bandwidth_mibps: link_mibps,
                rtt_ms: 0.2,
            },
            storage: StorageSpec {
                kind: if copied {
                    StorageKind::Local
                } else {
                    StorageKind::Shared
                },
                path: "/var/lib/libvirt/images".into(),
                mounted_on: None,
            },
            vms: vec![vm_spec],
            migrations: vec![migration],
            prober: ProberSpec {
                target: Some(vm.clone()),
                ..ProberSpec::default()
            },
            sim,
        };
        scenario.validate().map_err(|(path, msg)| {
            anyhow::anyhow!("the trace's values make no valid scenario: {path}: {msg}")
        })?;
        let real = RunOutcome {
            status: "completed".into(),
            total_ms,
            downtime_ms,
            memory_bytes,
            disk_bytes,
            iterations,
            error: None,
        };
        let mut scenario = scenario;
        let mut replay = RunOutcome::of(&Simulator::run(scenario.clone()));
        // libvirt reports the downtime but not how it splits: what the twin's stop-and-copy does
        // not explain is the destination's resume.
        let resume = round(
            (scenario.sim.resume_ms + downtime_ms as f64 - replay.downtime_ms as f64)
                .clamp(0.0, 10_000.0),
            1,
        );
        let live = scenario.migrations.first().is_some_and(|m| m.live);
        if live && resume != scenario.sim.resume_ms {
            let mut fitted = scenario.clone();
            fitted.sim.resume_ms = resume;
            if fitted.validate().is_ok() {
                scenario = fitted;
                replay = RunOutcome::of(&Simulator::run(scenario.clone()));
            }
        }
        notes.push(if live {
            Note {
                key: "sim.resume_ms",
                value: format!("{}", scenario.sim.resume_ms),
                measured: true,
                why: format!(
                    "fitted to the run's downtime ({downtime_ms} ms): what the twin's \
                     stop-and-copy and device state do not take"
                ),
            }
        } else {
            Note {
                key: "sim.resume_ms",
                value: format!("{}", scenario.sim.resume_ms),
                measured: false,
                why: "assumed: the format's default (without --live the guest is paused the \
                      whole time, so the downtime tells nothing of the resume)"
                    .into(),
            }
        });
        Ok(Twin {
            scenario,
            notes,
            real,
            replay,
        })
    }

    /// The twin as a scenario file: comments saying what each value is, then the TOML.
    pub fn to_toml(&self) -> anyhow::Result<String> {
        let body = self
            .scenario
            .to_toml_string()
            .context("cannot write the twin as TOML")?;
        let mut out = String::new();
        let vm = self.scenario.vms.first().map_or("", |v| v.name.as_str());
        out.push_str(&format!(
            "# The simulated twin of a real migration of `{}` (`migralab twin`): the guest and \
             the command\n# as libvirt's job statistics recorded them. Replay it with `migralab \
             sim FILE`; change one value\n# (`--set link.bandwidth_mibps=50`, \
             `--set migration.auto_converge=true`) for the what-if.\n#\n",
            migralab_sim_core::term::escape(vm)
        ));
        for (measured, title) in [(true, "Measured"), (false, "Assumed")] {
            out.push_str(&format!("# {title}:\n"));
            for n in self.notes.iter().filter(|n| n.measured == measured) {
                let line = format!("{} = {}: {}", n.key, n.value, n.why);
                for (i, chunk) in wrap(&migralab_sim_core::term::escape(&line), 96)
                    .iter()
                    .enumerate()
                {
                    out.push_str(if i == 0 { "#   " } else { "#       " });
                    out.push_str(chunk);
                    out.push('\n');
                }
            }
        }
        out.push_str(&format!(
            "#\n# The real run: {}\n# This twin replayed: {}\n\n",
            summary(&self.real),
            summary(&self.replay)
        ));
        out.push_str(&body);
        Ok(out)
    }

    /// How far the replay is from the real run: (bytes, time) relative errors.
    pub fn errors(&self) -> (f64, f64) {
        let rel = |a: u64, b: u64| (a as f64 - b as f64).abs() / (b as f64).max(1.0);
        (
            rel(self.replay.memory_bytes, self.real.memory_bytes),
            rel(self.replay.total_ms, self.real.total_ms),
        )
    }
}

fn summary(o: &RunOutcome) -> String {
    format!(
        "{}, {} ms, downtime {} ms, {:.1} MiB of RAM sent, {} iterations",
        o.status,
        o.total_ms,
        o.downtime_ms,
        mib(o.memory_bytes as f64),
        o.iterations
    )
}

/// `text` in lines of at most about `width` characters, broken at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let cur = lines.last_mut().map_or(0, |l| l.chars().count());
        if cur > 0 && cur + 1 + word.chars().count() > width {
            lines.push(String::new());
        }
        if let Some(l) = lines.last_mut() {
            if !l.is_empty() {
                l.push(' ');
            }
            l.push_str(word);
        }
    }
    lines
}

/// Write `text` to `path`, a file that must not exist yet (a twin never replaces a file).
pub fn write_new(path: &Path, text: &str) -> anyhow::Result<()> {
    crate::storage::check_output("-o", path)?;
    if path.symlink_metadata().is_ok() {
        bail!(
            "{} exists already: name another file (a twin never replaces one)",
            path.display()
        );
    }
    crate::storage::write_atomically(path, text.as_bytes())
}

/// Write the twin into `dir` as `twin-VM.toml` (or `twin-VM-2.toml`, ... : never over a file
/// there), creating the folder; returns the file's path.
pub fn write_into(dir: &Path, twin: &Twin) -> anyhow::Result<std::path::PathBuf> {
    let text = twin.to_toml()?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let stem: String = twin
        .scenario
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    for n in 1..1000 {
        let name = if n == 1 {
            format!("{stem}.toml")
        } else {
            format!("{stem}-{n}.toml")
        };
        let path = dir.join(name);
        if path.symlink_metadata().is_err() {
            write_new(&path, &text)?;
            return Ok(path);
        }
    }
    bail!("{}: too many twins there already", dir.display())
}

/// The twin of `trace` written into `dir` (see [`write_into`]): what the app's button on a real
/// run does before it opens the file in the simulated lab.
pub fn build_into(dir: &Path, trace: &Trace) -> anyhow::Result<std::path::PathBuf> {
    let twin = Twin::from_trace(trace)?;
    write_into(dir, &twin)
}
