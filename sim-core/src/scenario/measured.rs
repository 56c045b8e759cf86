//! `[vm.measured]`: the guest knobs that reproduce one measured guest, the lab in a box's, rather
//! than describe a lab. The fidelity harness fits or measures them (`migralab fidelity`) and
//! writes them; students never do (see the book's `reference/measured-guest.md`). Every knob
//! defaults to a plain guest: a CPU-bound writer, no kernel writes of its own, data at the
//! bottom of RAM.

use serde::{Deserialize, Serialize};

/// The measured-guest knobs of one `[[vm]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasuredSpec {
    /// Share of its vCPU's time the memory writer needs at full rate, 0..=1. 1 (the default) is
    /// a CPU-bound writer that any auto-converge throttle slows; a writer that paces itself
    /// (writes, then sleeps) needs less and slows only once the throttle leaves it less than
    /// this: at 0.05 nothing changes until the throttle passes 95 %.
    #[serde(default = "defaults::one")]
    pub vcpu_busy_share: f64,
    /// What the guest writes besides its workload, MiB/s, spread over the memory it has used:
    /// an "idle" system still ticks timers and takes every network packet it receives into
    /// fresh buffers (being pinged every 10 ms is part of it). Small, but it decides whether
    /// QEMU needs one more pass at the end, and what is left to send while the guest is paused.
    #[serde(default)]
    pub background_dirty_mibps: f64,
    /// The memory those background writes go to, KiB (kernel buffers are reused, so it is
    /// small): the first of the written pages. 0: spread over all written memory.
    #[serde(default)]
    pub background_set_kib: u64,
    /// The workload writes in bursts this often, ms, rather than continuously (a script on a
    /// timer: each wake-up owes a period's worth and writes it as fast as its vCPU share
    /// allows — `vcpu_busy_share` of the period, longer under a throttle). 0: continuously.
    #[serde(default)]
    pub workload_burst_ms: f64,
    /// What each of those bursts dirties besides the working set, KiB: the process it starts,
    /// its buffers — the same memory, rewritten on every wake-up. Needs `workload_burst_ms`.
    /// It lies in the kernel's memory just below the working set, or partly at the top of RAM.
    #[serde(default)]
    pub workload_churn_kib: u64,
    /// Share of that churn in the page descriptors at the top of RAM (allocating and freeing
    /// pages writes their descriptors), 0..=1; the rest lies just below the working set.
    #[serde(default)]
    pub workload_churn_top_share: f64,
    /// Written memory at the very top of RAM, MiB, above the never-written (zero) pages: a
    /// booted Linux guest keeps its initrd and early allocations there, so QEMU's first pass
    /// ends on pages that cost time to send rather than on free zeros. 0: the zero pages are
    /// the top of RAM.
    #[serde(default)]
    pub top_used_mib: u64,
    /// Measured layout of the guest's data: how many of the 256 pages of each MiB of RAM hold
    /// data, from the bottom (what a dump of a booted guest shows; the fidelity harness records
    /// it). When given, it replaces `zero_fraction` and `top_used_mib`; a MiB with no data counts
    /// as never touched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_pages_per_mib: Vec<u16>,
    /// Where the workload's files lie among those data pages, in the order they were
    /// allocated: `[MiB, pages]` pairs, each taking the next `pages` data pages of that MiB (a
    /// MiB may come back later in the list). Needs `data_pages_per_mib`. When given, the
    /// working set is the last of these pages (the ones before are the buffer the writer copies
    /// from, which it only reads), written in this order. A booted kernel hands out the holes
    /// its boot freed first, scattered among its own data and at the top of RAM, and only then
    /// fresh memory above it; where the writes land decides what QEMU's walk has sent when it
    /// syncs. With fewer pages than the working set, the set is the data below the top block.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workload_files: Vec<(u64, u16)>,
    /// The machine's ROM blocks, KiB, which QEMU migrates after RAM (`info ramblock`: `pc.bios`
    /// 256, `pc.rom` 128, a virtio-net option ROM 256).
    #[serde(default = "defaults::firmware_kib")]
    pub firmware_kib: u64,
    /// Of those, the KiB that hold data (the rest are zero pages).
    #[serde(default = "defaults::firmware_data_kib")]
    pub firmware_data_kib: u64,
}

impl Default for MeasuredSpec {
    fn default() -> Self {
        MeasuredSpec {
            vcpu_busy_share: 1.0,
            background_dirty_mibps: 0.0,
            background_set_kib: 0,
            workload_burst_ms: 0.0,
            workload_churn_kib: 0,
            workload_churn_top_share: 0.0,
            top_used_mib: 0,
            data_pages_per_mib: Vec::new(),
            workload_files: Vec::new(),
            firmware_kib: defaults::firmware_kib(),
            firmware_data_kib: defaults::firmware_data_kib(),
        }
    }
}

impl MeasuredSpec {
    /// Every knob at its default (then a scenario written back out has no `[vm.measured]`).
    pub fn is_default(&self) -> bool {
        *self == MeasuredSpec::default()
    }
}

/// The keys of `[vm.measured]`, which `[[vm]]` refuses with a pointer to their new place.
pub const MEASURED_KEYS: [&str; 11] = [
    "vcpu_busy_share",
    "background_dirty_mibps",
    "background_set_kib",
    "workload_burst_ms",
    "workload_churn_kib",
    "workload_churn_top_share",
    "top_used_mib",
    "data_pages_per_mib",
    "workload_files",
    "firmware_kib",
    "firmware_data_kib",
];

/// The `[[vm]]` keys of a parsed scenario that belong in `[vm.measured]`, as their dotted paths
/// (`vm.0.top_used_mib`) and the keys.
pub(super) fn misplaced_keys(table: &toml::Table) -> Vec<(String, &'static str)> {
    let vms = table.get("vm").and_then(toml::Value::as_array);
    vms.into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, vm)| Some((i, vm.as_table()?)))
        .flat_map(|(i, vm)| {
            MEASURED_KEYS
                .iter()
                .filter(|k| vm.contains_key(**k))
                .map(move |k| (format!("vm.{i}.{k}"), *k))
        })
        .collect()
}

/// What to say about a `[[vm]]` key that moved into `[vm.measured]`.
pub(super) fn moved_message(key: &str) -> String {
    format!(
        "`{key}` is not a [[vm]] key: it belongs in the VM's [vm.measured] table \
         (`measured.{key}`), with the other knobs the fidelity harness fits to the lab in a box's \
         guest (see the book's reference/measured-guest.md)"
    )
}

mod defaults {
    pub fn one() -> f64 {
        1.0
    }
    /// A pc machine with SeaBIOS and one virtio-net NIC, as the lab in a box runs.
    pub fn firmware_kib() -> u64 {
        640
    }
    /// What a page trace of that machine's first pass sends as data pages of its ROMs (47 of
    /// `pc.bios`, 61 of the NIC's ROM, none of `pc.rom`).
    pub fn firmware_data_kib() -> u64 {
        432
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::Scenario;

    const LAB: &str = "name='t'\n[[host]]\nname='a'\n[link]\nbandwidth_mibps=100.0\n[storage]\nkind='shared'\n[[vm]]\nname='db01'\nhost='a'\nram_mib=8\n";

    #[test]
    fn a_measured_knob_left_in_the_vm_table_is_refused_where_it_is_with_its_new_place() {
        let text = format!("{LAB}top_used_mib = 3\n");
        let e = Scenario::from_toml_str(&text)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("<string>:12:"), "{e}");
        assert!(
            e.contains("`top_used_mib`") && e.contains("[vm.measured]"),
            "{e}"
        );
        assert!(e.contains("measured-guest.md"), "{e}");
    }

    #[test]
    fn a_measured_knob_set_flat_by_override_is_refused_with_its_new_path() {
        let src = crate::Located {
            text: LAB,
            origin: "lab.toml",
        };
        let e = Scenario::load(src, &["vm.db01.background_set_kib=512".into()])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("`background_set_kib`") && e.contains("vm.0.measured.background_set_kib"),
            "{e}"
        );
        let s = Scenario::load(src, &["vm.db01.measured.background_set_kib=512".into()]);
        assert_eq!(
            s.map(|s| s.vms[0].measured.background_set_kib).ok(),
            Some(512)
        );
    }

    #[test]
    fn the_measured_table_reads_its_knobs_and_is_left_out_when_all_are_defaults() {
        let text = format!("{LAB}[vm.measured]\nbackground_dirty_mibps = 0.5\n");
        let s = Scenario::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.vms[0].measured.background_dirty_mibps, 0.5);
        assert_eq!(s.vms[0].measured.firmware_kib, 640);
        let out = s.to_toml_string().unwrap_or_default();
        assert!(out.contains("[vm.measured]"), "{out}");
        let plain = Scenario::from_toml_str(LAB).unwrap_or_else(|e| panic!("{e}"));
        let out = plain.to_toml_string().unwrap_or_default();
        assert!(!out.contains("measured"), "{out}");
    }
}
