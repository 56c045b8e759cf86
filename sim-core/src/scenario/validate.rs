//! Impossible values are rejected, never silently fixed. Each rule returns the dotted path of the
//! offending value and what would be accepted.

use super::{MigrationSpec, Scenario, StorageKind, TimeoutAction, VmSpec, WorkloadSpec};
use std::collections::BTreeSet;

type Problem = (String, String);

fn fail<T>(path: impl Into<String>, message: impl Into<String>) -> Result<T, Problem> {
    Err((path.into(), message.into()))
}

fn positive(path: &str, v: f64, what: &str) -> Result<(), Problem> {
    if !v.is_finite() || v <= 0.0 {
        return fail(path, format!("{what} must be a positive number, got {v}"));
    }
    Ok(())
}

fn non_negative(path: &str, v: f64, what: &str) -> Result<(), Problem> {
    if !v.is_finite() || v < 0.0 {
        return fail(path, format!("{what} must be zero or more, got {v}"));
    }
    Ok(())
}

fn share(path: &str, v: f64) -> Result<(), Problem> {
    if !(0.0..=1.0).contains(&v) {
        return fail(path, format!("a share must be between 0 and 1, got {v}"));
    }
    Ok(())
}

/// Largest guest the simulator accepts: 16 TiB, far above any lab.
const MAX_RAM_MIB: u64 = 16 * 1024 * 1024;

impl Scenario {
    /// Check every value; the first problem found is returned as (dotted path, message).
    pub fn validate(&self) -> Result<(), (String, String)> {
        if self.name.trim().is_empty() {
            return fail("name", "the scenario needs a name");
        }
        printable_name("name", &self.name)?;
        if self.hosts.is_empty() {
            return fail("host", "a lab needs at least one [[host]]");
        }
        let mut host_names = BTreeSet::new();
        for (i, h) in self.hosts.iter().enumerate() {
            if h.name.trim().is_empty() {
                return fail(format!("host.{i}.name"), "a host needs a name");
            }
            printable_name(&format!("host.{i}.name"), &h.name)?;
            if !host_names.insert(h.name.as_str()) {
                return fail(
                    format!("host.{i}.name"),
                    format!("host `{}` is listed twice", h.name),
                );
            }
            if let Some(n) = &h.hostname
                && (n.is_empty()
                    || !n
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-')))
            {
                return fail(
                    format!("host.{i}.hostname"),
                    "a hostname: letters, digits, `-` and `.`",
                );
            }
        }
        positive(
            "link.bandwidth_mibps",
            self.link.bandwidth_mibps,
            "the link bandwidth",
        )?;
        non_negative("link.rtt_ms", self.link.rtt_ms, "the link round-trip time")?;
        if self.vms.is_empty() {
            return fail("vm", "a lab needs at least one [[vm]]");
        }
        let mut vm_names = BTreeSet::new();
        for (i, vm) in self.vms.iter().enumerate() {
            if !vm_names.insert(vm.name.as_str()) {
                return fail(
                    format!("vm.{i}.name"),
                    format!("VM `{}` is listed twice", vm.name),
                );
            }
            validate_vm(i, vm, &host_names)?;
        }
        let mut migrated = BTreeSet::new();
        for (i, m) in self.migrations.iter().enumerate() {
            if !vm_names.contains(m.vm.as_str()) {
                return fail(
                    format!("migration.{i}.vm"),
                    format!("no [[vm]] is named `{}`", m.vm),
                );
            }
            if !migrated.insert(m.vm.as_str()) {
                return fail(
                    format!("migration.{i}.vm"),
                    format!("`{}` is migrated twice; one migration per VM", m.vm),
                );
            }
            if !host_names.contains(m.to.as_str()) {
                return fail(
                    format!("migration.{i}.to"),
                    format!(
                        "no [[host]] is named `{}` (hosts: {})",
                        m.to,
                        join(&host_names)
                    ),
                );
            }
            validate_migration(i, m, self.storage.kind)?;
        }
        let p = &self.prober;
        positive("prober.interval_ms", p.interval_ms, "the probe interval")?;
        non_negative("prober.rtt_ms", p.rtt_ms, "the probe round-trip time")?;
        non_negative("prober.jitter_ms", p.jitter_ms, "the probe jitter")?;
        positive("prober.timeout_ms", p.timeout_ms, "the probe timeout")?;
        non_negative("prober.tail_ms", p.tail_ms, "the probe tail")?;
        if let Some(t) = &p.target
            && !vm_names.contains(t.as_str())
        {
            return fail("prober.target", format!("no [[vm]] is named `{t}`"));
        }
        let s = &self.sim;
        positive("sim.max_time_s", s.max_time_s, "the time limit")?;
        if s.max_time_s > 7.0 * 86_400.0 {
            return fail(
                "sim.max_time_s",
                "the time limit is at most a week (604800 s)",
            );
        }
        non_negative("sim.setup_ms", s.setup_ms, "the setup time")?;
        non_negative("sim.resume_ms", s.resume_ms, "the resume time")?;
        non_negative("sim.announce_ms", s.announce_ms, "the announce delay")?;
        if s.sample_interval_ms == 0 {
            return fail(
                "sim.sample_interval_ms",
                "the sample interval must be at least 1 ms",
            );
        }
        // Last: the estimate needs every value in its range.
        crate::budget::check(self)
    }
}

/// A name (scenario, host, VM) is printed on terminals and put in commands: no control or
/// bidirectional formatting character ([`crate::term::is_unsafe`]) may hide in it.
fn printable_name(path: &str, name: &str) -> Result<(), Problem> {
    if let Some(c) = name.chars().find(|c| crate::term::is_unsafe(*c)) {
        return fail(
            path,
            format!(
                "a name cannot hold control or bidirectional formatting characters; `{}` holds U+{:04X}",
                crate::term::escape(name),
                u32::from(c)
            ),
        );
    }
    Ok(())
}

fn validate_vm(i: usize, vm: &VmSpec, hosts: &BTreeSet<&str>) -> Result<(), Problem> {
    printable_name(&format!("vm.{i}.name"), &vm.name)?;
    if !hosts.contains(vm.host.as_str()) {
        return fail(
            format!("vm.{i}.host"),
            format!(
                "no [[host]] is named `{}` (hosts: {})",
                vm.host,
                join(hosts)
            ),
        );
    }
    if vm.ram_mib == 0 || vm.ram_mib > MAX_RAM_MIB {
        return fail(
            format!("vm.{i}.ram_mib"),
            format!(
                "RAM must be between 1 and {MAX_RAM_MIB} MiB, got {}",
                vm.ram_mib
            ),
        );
    }
    if vm.vcpus == 0 {
        return fail(format!("vm.{i}.vcpus"), "a VM needs at least one vCPU");
    }
    non_negative(&format!("vm.{i}.disk_gib"), vm.disk_gib, "the disk size")?;
    if vm.disk_gib > 64.0 * 1024.0 {
        return fail(format!("vm.{i}.disk_gib"), "the disk is at most 64 TiB");
    }
    validate_memory(i, vm)?;
    validate_measured(i, vm)?;
    non_negative(
        &format!("vm.{i}.disk_write_mibps"),
        vm.disk_write_mibps,
        "the disk write rate",
    )?;
    if let Some((set, rate)) = vm.workload.set_and_rate() {
        if set == 0 {
            return fail(
                format!("vm.{i}.workload.set_mib"),
                "the working set must be at least 1 MiB",
            );
        }
        if set > vm.ram_mib {
            return fail(
                format!("vm.{i}.workload.set_mib"),
                format!(
                    "the working set ({set} MiB) is larger than the VM's RAM ({} MiB)",
                    vm.ram_mib
                ),
            );
        }
        if set * 1024 + vm.measured.workload_churn_kib > vm.ram_mib * 1024 {
            return fail(
                format!("vm.{i}.measured.workload_churn_kib"),
                format!(
                    "the working set and the churn ({set} MiB + {} KiB) do not fit in the VM's RAM ({} MiB)",
                    vm.measured.workload_churn_kib, vm.ram_mib
                ),
            );
        }
        non_negative(
            &format!("vm.{i}.workload.rate_mibps"),
            rate,
            "the write rate",
        )?;
        if rate > 1_000_000.0 {
            return fail(
                format!("vm.{i}.workload.rate_mibps"),
                "a guest writes at most 1,000,000 MiB/s",
            );
        }
    }
    if let WorkloadSpec::Zipf { skew, .. } = vm.workload
        && !(0.0..1.0).contains(&skew)
    {
        return fail(
            format!("vm.{i}.workload.skew"),
            format!("the skew must be in 0..1 (0 = uniform), got {skew}"),
        );
    }
    Ok(())
}

/// What the guest's RAM holds: `written_mib` or `zero_fraction`, not both, each in its range.
fn validate_memory(i: usize, vm: &VmSpec) -> Result<(), Problem> {
    let p = |k: &str| format!("vm.{i}.{k}");
    if let Some(z) = vm.zero_fraction {
        share(&p("zero_fraction"), z)?;
    }
    let Some(w) = vm.written_mib else {
        return Ok(());
    };
    if vm.zero_fraction.is_some() {
        return fail(
            p("written_mib"),
            "give the guest's memory one way: `written_mib` (what it has written, MiB) or \
             `zero_fraction` (the share of RAM never written), not both",
        );
    }
    non_negative(&p("written_mib"), w, "the memory the guest has written")?;
    let max = vm.max_written_mib();
    if w > max {
        let descriptors = VmSpec::descriptor_pages(vm.ram_pages()) as f64
            / crate::guest::ram_layout::PAGES_PER_MIB as f64;
        return fail(
            p("written_mib"),
            format!(
                "{w} MiB written do not fit in the VM's RAM ({} MiB) beside its page \
                 descriptors ({descriptors} MiB, 1/64 of RAM): at most {max} MiB",
                vm.ram_mib
            ),
        );
    }
    Ok(())
}

/// The `[vm.measured]` knobs: each in its range, the data map inside the VM's RAM, the files on
/// that map's data.
fn validate_measured(i: usize, vm: &VmSpec) -> Result<(), Problem> {
    let p = |k: &str| format!("vm.{i}.measured.{k}");
    let m = &vm.measured;
    share(&p("workload_churn_top_share"), m.workload_churn_top_share)?;
    if !(m.vcpu_busy_share > 0.0 && m.vcpu_busy_share <= 1.0) {
        return fail(
            p("vcpu_busy_share"),
            format!(
                "a share of the vCPU's time must be above 0 and at most 1, got {}",
                m.vcpu_busy_share
            ),
        );
    }
    non_negative(
        &p("background_dirty_mibps"),
        m.background_dirty_mibps,
        "the background write rate",
    )?;
    if m.top_used_mib > vm.ram_mib {
        return fail(
            p("top_used_mib"),
            format!(
                "{} MiB at the top do not fit in the VM's RAM ({} MiB)",
                m.top_used_mib, vm.ram_mib
            ),
        );
    }
    if m.data_pages_per_mib.len() as u64 > vm.ram_mib {
        return fail(
            p("data_pages_per_mib"),
            format!(
                "a map of {} MiB does not fit in the VM's RAM ({} MiB)",
                m.data_pages_per_mib.len(),
                vm.ram_mib
            ),
        );
    }
    if let Some((mib, n)) = m
        .data_pages_per_mib
        .iter()
        .enumerate()
        .find(|(_, n)| u64::from(**n) > crate::guest::ram_layout::PAGES_PER_MIB)
    {
        return fail(
            p("data_pages_per_mib"),
            format!("MiB {mib} has {n} pages with data, but a MiB has only 256 pages"),
        );
    }
    if !m.workload_files.is_empty() && m.data_pages_per_mib.is_empty() {
        return fail(
            p("workload_files"),
            "the workload's files are a part of the data: give data_pages_per_mib too",
        );
    }
    let mut taken = vec![0u64; m.data_pages_per_mib.len()];
    for &(mib, n) in &m.workload_files {
        let have = usize::try_from(mib)
            .ok()
            .and_then(|k| m.data_pages_per_mib.get(k).zip(taken.get_mut(k)));
        let Some((&data, used)) = have else {
            return fail(
                p("workload_files"),
                format!("MiB {mib} is past the data map's last MiB"),
            );
        };
        *used += u64::from(n);
        if *used > u64::from(data) {
            return fail(
                p("workload_files"),
                format!(
                    "the files take {used} pages of MiB {mib}, but it has only {data} pages with data"
                ),
            );
        }
    }
    if m.firmware_data_kib > m.firmware_kib {
        return fail(
            p("firmware_data_kib"),
            format!(
                "{} KiB of data do not fit in {} KiB of firmware",
                m.firmware_data_kib, m.firmware_kib
            ),
        );
    }
    non_negative(
        &p("workload_burst_ms"),
        m.workload_burst_ms,
        "the burst period",
    )?;
    if m.workload_churn_kib > 0 && m.workload_burst_ms <= 0.0 {
        return fail(
            p("workload_churn_kib"),
            "a churn is dirtied on every burst: set workload_burst_ms too",
        );
    }
    Ok(())
}

fn validate_migration(i: usize, m: &MigrationSpec, storage: StorageKind) -> Result<(), Problem> {
    let p = |k: &str| format!("migration.{i}.{k}");
    if let Some(h) = &m.uri_host
        && (h.is_empty()
            || !h
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-')))
    {
        return fail(
            p("uri_host"),
            "a host name or an IPv4 address, as in qemu+ssh://HOST/system",
        );
    }
    if m.bandwidth_mibps == Some(0) {
        return fail(
            p("bandwidth_mibps"),
            "zero bandwidth would never finish; leave the key out for libvirt's default (unlimited)",
        );
    }
    if m.postcopy_bandwidth_mibps == Some(0) {
        return fail(
            p("postcopy_bandwidth_mibps"),
            "zero bandwidth would never finish; leave the key out for unlimited",
        );
    }
    if !crate::limits::DOWNTIME_LIMIT_MS.contains(&m.downtime_limit_ms) {
        return fail(
            p("downtime_limit_ms"),
            "QEMU accepts a downtime limit from 1 ms to 2,000,000 ms",
        );
    }
    if m.tunnelled && !m.p2p {
        return fail(
            p("tunnelled"),
            "--tunnelled works only together with --p2p (set p2p = true)",
        );
    }
    if m.timeout_s == Some(0) {
        return fail(p("timeout_s"), "--timeout must be at least 1 second");
    }
    if m.timeout_s.is_some() && !m.live {
        return fail(p("timeout_s"), "--timeout works only with --live");
    }
    if m.timeout_action == TimeoutAction::Postcopy && !m.postcopy {
        return fail(
            p("timeout_action"),
            "--timeout-postcopy needs --postcopy (set postcopy = true)",
        );
    }
    if (m.postcopy_after_precopy || m.postcopy_after_pass.is_some()) && !m.postcopy {
        return fail(
            p("postcopy"),
            "switching to post-copy needs --postcopy (set postcopy = true)",
        );
    }
    if m.postcopy_after_pass == Some(0) {
        return fail(p("postcopy_after_pass"), "the first pass is pass 1");
    }
    if (m.auto_converge_initial.is_some() || m.auto_converge_increment.is_some())
        && !m.auto_converge
    {
        return fail(
            p("auto_converge"),
            "libvirt: \"Turn auto convergence on to tune it\" (set auto_converge = true)",
        );
    }
    for (key, v) in [
        ("auto_converge_initial", m.auto_converge_initial),
        ("auto_converge_increment", m.auto_converge_increment),
    ] {
        if let Some(v) = v
            && !crate::limits::THROTTLE_PCT.contains(&u64::from(v))
        {
            return fail(
                p(key),
                format!("a throttle step is 1..=99 percent, got {v}"),
            );
        }
    }
    if m.copy_storage_all && storage == StorageKind::Shared {
        // Allowed by libvirt (it copies anyway), but almost always a mistake in a lesson scenario.
        tracing::debug!(
            migration = i,
            "copy_storage_all on shared storage copies the disk needlessly"
        );
    }
    Ok(())
}

fn join(names: &BTreeSet<&str>) -> String {
    names.iter().copied().collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use crate::scenario::Scenario;

    fn error_of(vm_keys: &str) -> String {
        let text = format!(
            "name='t'\n[[host]]\nname='a'\n[[host]]\nname='b'\n[link]\nbandwidth_mibps=100.0\n[storage]\nkind='shared'\n[[vm]]\nname='db01'\nhost='a'\nram_mib=8\n{vm_keys}\n"
        );
        Scenario::from_toml_str(&text)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn the_workload_files_must_be_data_pages_of_the_map() {
        let map = "[vm.measured]\ndata_pages_per_mib=[256, 100, 0, 50]";
        assert_eq!(
            error_of(&format!(
                "{map}\nworkload_files=[[1, 60], [3, 50], [1, 40]]"
            )),
            ""
        );
        let e = error_of("[vm.measured]\nworkload_files=[[1, 60]]");
        assert!(
            e.contains("vm.0.measured.workload_files") && e.contains("data_pages_per_mib"),
            "{e}"
        );
        // MiB 1 has 100 data pages; two runs take 101.
        let e = error_of(&format!("{map}\nworkload_files=[[1, 60], [1, 41]]"));
        assert!(
            e.contains("101 pages of MiB 1") && e.contains("only 100"),
            "{e}"
        );
        let e = error_of(&format!("{map}\nworkload_files=[[4, 1]]"));
        assert!(e.contains("MiB 4 is past"), "{e}");
    }

    #[test]
    fn the_memory_is_written_mib_or_zero_fraction_not_both_and_fits_beside_the_descriptors() {
        // 8 MiB of RAM: 2048 pages, 32 of them page descriptors.
        let ok = |keys: &str| {
            Scenario::from_toml_str(&format!(
            "name='t'\n[[host]]\nname='a'\n[link]\nbandwidth_mibps=100.0\n[storage]\nkind='shared'\n[[vm]]\nname='db01'\nhost='a'\nram_mib=8\n{keys}\n"
        ))
        .unwrap_or_else(|e| panic!("{e}"))
        };
        assert_eq!(ok("written_mib = 2.0").vms[0].data_pages(), 512 + 32);
        assert_eq!(ok("written_mib = 7.875").vms[0].data_pages(), 2048);
        assert_eq!(ok("zero_fraction = 0.25").vms[0].data_pages(), 1536);
        // Neither: all of RAM holds data.
        assert_eq!(ok("").vms[0].data_pages(), 2048);
        assert_eq!(ok("").vms[0].zero_share(), 0.0);
        assert_eq!(ok("written_mib = 2.0").vms[0].written(), 2.0);
        let e = error_of("zero_fraction = 0.5\nwritten_mib = 2.0");
        assert!(e.contains(":15:") && e.contains("not both"), "{e}");
        let e = error_of("written_mib = 7.9");
        assert!(
            e.contains("vm.0.written_mib") && e.contains("at most 7.875 MiB") && e.contains("1/64"),
            "{e}"
        );
        let e = error_of("written_mib = -1.0");
        assert!(e.contains("zero or more"), "{e}");
    }

    #[test]
    fn a_set_of_one_memory_key_replaces_the_other_and_ram_alone_keeps_what_was_written() {
        let text = "name='t'\n[[host]]\nname='a'\n[link]\nbandwidth_mibps=100.0\n[storage]\nkind='shared'\n[[vm]]\nname='db01'\nhost='a'\nram_mib=256\nwritten_mib=60.0\n";
        let load = |sets: &[&str]| {
            let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
            crate::scenario::Scenario::load(
                crate::Located {
                    text,
                    origin: "lab.toml",
                },
                &sets,
            )
        };
        let vm = |sets: &[&str]| {
            load(sets)
                .map(|s| s.vms[0].clone())
                .unwrap_or_else(|e| panic!("{e}"))
        };
        let z = vm(&["vm.db01.zero_fraction=0.5"]);
        assert_eq!((z.written_mib, z.zero_fraction), (None, Some(0.5)));
        let w = vm(&["vm.db01.zero_fraction=0.5", "vm.db01.written_mib=10"]);
        assert_eq!((w.written_mib, w.zero_fraction), (Some(10.0), None));
        // Four times the RAM: the same 60 MiB written, the descriptors 4 MiB -> 16 MiB.
        let (small, big) = (vm(&[]), vm(&["vm.db01.ram_mib=1024"]));
        assert_eq!(big.data_pages() - small.data_pages(), 12 * 256);
        let e = load(&["vm.db01.ram_mib=32"])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("written_mib") && e.contains("after --set vm.db01.ram_mib=32"),
            "{e}"
        );
    }

    #[test]
    fn names_with_control_or_bidi_characters_are_refused() {
        let base = "name='t'\n[[host]]\nname='a'\n[link]\nbandwidth_mibps=100.0\n[storage]\nkind='shared'\n[[vm]]\nname='db01'\nhost='a'\nram_mib=8\n";
        assert!(Scenario::from_toml_str(base).is_ok());
        for (from, to, path) in [
            ("name='t'", r#"name="t\u001b[2J""#, "name"),
            ("name='a'", r#"name="a\u202e""#, "host.0.name"),
            ("name='db01'", r#"name="db\u0085\u0001""#, "vm.0.name"),
        ] {
            let text = base.replacen(from, to, 1);
            let e = Scenario::from_toml_str(&text)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.contains(path) && e.contains("control"), "{text}: {e}");
            assert!(!e.chars().any(crate::term::is_unsafe), "{e:?}");
        }
    }
}
