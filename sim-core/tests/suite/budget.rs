//! Issue 22 §3: the scenario loader, the validator and the simulator under the cost budget.
//! Scenarios are the lesson's lab with any value pushed anywhere in the range the validator's
//! other rules accept (log-uniform, so the extremes come up): the loader answers each with a
//! scenario or an error, never a panic; an accepted one fits the budget by the estimate, and its
//! run stays within the meter's limit and the estimate's trace events.

use migralab_sim_core::budget::{self, MAX_EVENTS, MAX_MEMORY_BYTES};
use migralab_sim_core::{Scenario, Simulator};
use proptest::prelude::*;

const LAB: &str = "name='t'\n[[host]]\nname='a'\nmemory_mib=40000000\n[[host]]\nname='b'\nmemory_mib=40000000\n\
[link]\nbandwidth_mibps={bw}\n[storage]\nkind='{storage}'\n\
[[vm]]\nname='db01'\nhost='a'\nram_mib={ram}\ndisk_gib={disk}\nzero_fraction={zero}\ndisk_write_mibps={disk_rate}\n\
[vm.workload]\nkind='{kind}'\nset_mib={set}\nrate_mibps={rate}\n\
[[migration]]\nvm='db01'\nto='b'\nstart_ms={start}\ndowntime_limit_ms={downtime}\npostcopy={postcopy}\ncopy_storage_all={copy}\n\
[prober]\ninterval_ms={interval}\ntail_ms={tail}\n\
[sim]\nmax_time_s={max_time}\nsample_interval_ms={sample}\n";

/// A value between `lo` and `hi`, spread evenly over their orders of magnitude.
fn log(lo: f64, hi: f64) -> impl Strategy<Value = f64> {
    (lo.ln()..=hi.ln()).prop_map(f64::exp)
}

/// `short`: runs short enough to simulate here (time limit, start and tail a few minutes).
fn scenario_text(short: bool) -> impl Strategy<Value = String> {
    let (start_max, tail_max, time_max) = if short {
        (1e5, 1e4, 120.0)
    } else {
        (1e13, 1e12, 604_800.0)
    };
    (
        (
            log(0.01, 1e5),
            log(1.0, 16.0 * 1024.0 * 1024.0),
            log(0.001, 64.0 * 1024.0),
        ),
        (
            0.0..=1.0f64,
            log(0.001, 1e4),
            prop::sample::select(vec!["hot-set", "zipf", "scanner"]),
        ),
        (
            log(1e-4, 1.0),
            log(0.01, 1e6),
            log(1.0, start_max),
            log(1.0, 2e6),
        ),
        (
            any::<bool>(),
            any::<bool>(),
            log(1e-3, 1e3),
            log(1.0, tail_max),
        ),
        (log(0.01, time_max), log(1.0, 1e6)),
    )
        .prop_map(
            |(
                (bw, ram, disk),
                (zero, disk_rate, kind),
                (set_share, rate, start, downtime),
                (postcopy, copy, interval, tail),
                (max_time, sample),
            )| {
                let ram = ram as u64;
                let set = ((ram as f64 * set_share) as u64).max(1);
                LAB.replace("{bw}", &format!("{bw:.3}"))
                    .replace("{storage}", if copy { "local" } else { "shared" })
                    .replace("{ram}", &ram.to_string())
                    .replace("{disk}", &format!("{disk:.3}"))
                    .replace("{zero}", &format!("{zero:.3}"))
                    .replace("{disk_rate}", &format!("{disk_rate:.3}"))
                    .replace("{kind}", kind)
                    .replace("{set}", &set.to_string())
                    .replace("{rate}", &format!("{rate:.3}"))
                    .replace("{start}", &(start as u64).to_string())
                    .replace("{downtime}", &(downtime as u64).to_string())
                    .replace("{postcopy}", &postcopy.to_string())
                    .replace("{copy}", &copy.to_string())
                    .replace("{interval}", &format!("{interval:.4}"))
                    .replace("{tail}", &format!("{tail:.1}"))
                    .replace("{max_time}", &format!("{max_time:.2}"))
                    .replace("{sample}", &(sample as u64).to_string())
            },
        )
}

/// Work a test run may do before the meter stops its job (a thousandth of the real budget).
const TEST_WORK: u64 = 5_000_000;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// The loader and validator answer any of these at once; what they accept fits the budget.
    #[test]
    fn an_accepted_scenario_fits_the_budget(text in scenario_text(false)) {
        let Ok(s) = Scenario::from_toml_str(&text) else { return Ok(()) };
        let e = budget::estimate(&s);
        prop_assert!(e.events <= MAX_EVENTS, "{e:?}");
        prop_assert!(e.memory_bytes <= MAX_MEMORY_BYTES, "{e:?}");
        let per = budget::work_per_migration(s.migrations.len());
        prop_assert!(e.jobs.iter().all(|j| j.total() <= per), "{e:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// An accepted scenario short enough to run here runs to an outcome within the meter's
    /// limit (stopped there with `work-limit` if it would cost more), with no more trace events
    /// than the estimate allowed.
    #[test]
    fn an_accepted_run_stays_within_its_meter(text in scenario_text(true)) {
        let Ok(s) = Scenario::from_toml_str(&text) else { return Ok(()) };
        let e = budget::estimate(&s);
        // Ticking through a long span costs time whatever the meter says; the estimate bounds
        // that (tested above), so only short spans are run here.
        if e.span_ms > 200_000.0 {
            return Ok(());
        }
        let setup: Vec<u64> = s
            .migrations
            .iter()
            .zip(&s.vms)
            .map(|(m, vm)| budget::setup_work(vm, m))
            .collect();
        // One tick's writes: what the meter may let through past its limit.
        let ticks_per_limit = s.sim.max_time_s * 100.0;
        let tick_writes: Vec<u64> = e.jobs.iter().map(|j| (j.writes / ticks_per_limit) as u64).collect();
        let mut sim = Simulator::new(s).with_work_limit(TEST_WORK);
        let mut events = 0u64;
        while !sim.is_finished() {
            sim.step();
            while sim.poll_trace().is_some() {
                events += 1;
            }
        }
        prop_assert!(events <= e.events, "{events} events, estimate {e:?}");
        for ((m, setup), tick) in sim.migrations().iter().zip(setup).zip(tick_writes) {
            prop_assert!(m.outcome().is_some(), "{:?}", m.vm_name());
            // Stopped in the tick that crossed the limit (after a setup it cannot stop).
            let most = TEST_WORK.max(setup) + tick + TEST_WORK / 2;
            prop_assert!(m.work() <= most, "{} > {most}", m.work());
        }

    }
}
