//! Benchmarks of the simulator (numbers in docs/src/development/benchmarks.md):
//! - `big_vm_auto_converge`: a 64 GiB guest with a 4 GiB hot set rewritten at 1 GiB/s over
//!   10 GbE with auto-converge (goal: < 200 ms wall, < 64 MiB extra memory);
//! - `thousand_runs_4gib`: 1,000 runs of a 4 GiB scenario (goal: < 2 s), what live "what-if"
//!   sliders need.
//!
//! Before the timings each run is made once: its simulated time, wall time and peak extra memory
//! (a counting allocator) are printed, and it must be the run the docs' table describes (it
//! completes, in the simulated time stated there). The test command runs this binary without
//! `--bench` (each benchmark once, as a test), so a model change that alters a run fails there.
// The benchmark measures wall time, so it may read the clock that sim-core itself may not.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods,
    missing_docs
)]

use migralab_sim_core::{Outcome, Scenario, Simulator, Trace};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY-free wrapper: delegates to the system allocator and only counts bytes.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Simulated length of the `BIG` run, s, as docs/src/development/benchmarks.md states it.
const BIG_SIMULATED_S: f64 = 68.8;
const BIG: &str = r#"
name = "bench-64g"
seed = 1
[[host]]
name = "a"
[[host]]
name = "b"
[link]
bandwidth_mibps = 1120.0
[storage]
kind = "shared"
[[vm]]
name = "big"
host = "a"
ram_mib = 65536
vcpus = 16
[vm.workload]
kind = "hot-set"
set_mib = 4096
rate_mibps = 1024.0
[[migration]]
vm = "big"
to = "b"
auto_converge = true
[sim]
max_time_s = 900.0
"#;

/// Simulated length of the `FOUR_GIB` run, s, as docs/src/development/benchmarks.md states it.
const FOUR_GIB_SIMULATED_S: f64 = 3.0;
const FOUR_GIB: &str = r#"
name = "bench-4g"
seed = 1
[[host]]
name = "a"
[[host]]
name = "b"
[link]
bandwidth_mibps = 1120.0
[storage]
kind = "shared"
[[vm]]
name = "vm"
host = "a"
ram_mib = 4096
zero_fraction = 0.5
[vm.workload]
kind = "hot-set"
set_mib = 256
rate_mibps = 200.0
[[migration]]
vm = "vm"
to = "b"
[prober]
interval_ms = 100.0
"#;

fn scenario(text: &str) -> Scenario {
    Scenario::from_toml_str(text).unwrap()
}

/// Simulated length of a run, s: its last event.
fn simulated(trace: &Trace) -> f64 {
    trace.events.last().map_or(0.0, |e| e.t_ms) / 1000.0
}

/// Run `text` once: print what it simulated, in how long and with how much memory, and check
/// that it is the run the docs describe: it completes, in `simulated_s` (to the 0.1 s the docs
/// give it with).
fn report(name: &str, text: &str, simulated_s: f64) {
    let s = scenario(text);
    let before = CURRENT.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let start = std::time::Instant::now();
    let trace: Trace = Simulator::run(s);
    let wall = start.elapsed();
    let peak = PEAK.load(Ordering::Relaxed) - before;
    let sim_s = simulated(&trace);
    println!(
        "{name}: simulated {sim_s:.1} s in {:.1} ms wall (×{:.0} real time), peak extra memory {:.1} MiB, {} events",
        wall.as_secs_f64() * 1000.0,
        sim_s / wall.as_secs_f64(),
        peak as f64 / (1024.0 * 1024.0),
        trace.events.len()
    );
    let outcomes: Vec<&Outcome> = trace.outcomes().map(|(_, o)| o).collect();
    assert!(
        matches!(outcomes[..], [o] if o.is_completed()),
        "{name}: the benchmarked migration must complete: {outcomes:?}"
    );
    assert!(
        (sim_s - simulated_s).abs() <= 0.05,
        "{name}: simulated {sim_s:.2} s, the docs say {simulated_s} s"
    );
}

/// Is the binary measuring (`cargo bench`)? Otherwise divan runs each benchmark once, as a
/// test (divan's own rule: `--test`, or no `--bench`).
fn measuring() -> bool {
    let flag = |f: &str| std::env::args().any(|a| a == f);
    flag("--bench") && !flag("--test")
}

fn main() {
    report("big_vm_auto_converge", BIG, BIG_SIMULATED_S);
    report("one_run_4gib", FOUR_GIB, FOUR_GIB_SIMULATED_S);
    divan::main();
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn big_vm_auto_converge(b: divan::Bencher) {
    let s = scenario(BIG);
    b.bench(|| Simulator::run(divan::black_box(s.clone())));
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn thousand_runs_4gib(b: divan::Bencher) {
    let s = scenario(FOUR_GIB);
    // Run once as a test: a thousand runs would check nothing more than one (and take seconds
    // of the test command's time).
    let runs = if measuring() { 1000 } else { 1 };
    b.bench(|| {
        for _ in 0..runs {
            divan::black_box(Simulator::run(divan::black_box(s.clone())));
        }
    });
}
