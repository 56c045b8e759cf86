//! # migralab sim-core
//!
//! The deterministic heart of migralab: the trace vocabulary both backends speak, scenario files,
//! and a simulator of libvirt/QEMU live migration that follows QEMU's own pre-copy algorithm at
//! page granularity.
//!
//! Invariants:
//! - **No I/O, no clocks, no threads.** Time is [`SimTime`], passed in; files are read by the app.
//!   `clippy.toml` forbids the escape hatches.
//! - **Deterministic.** Every random choice comes from the scenario's seed through [`rng::SeedTree`];
//!   the same scenario and seed give byte-identical traces.
//! - **One vocabulary.** [`trace`] types are what the real backend produces too.

#![warn(missing_docs)]

pub mod bitmap;
pub mod budget;
pub mod cpu;
pub mod disk;
pub mod error;
pub mod guest;
pub mod ids;
pub mod lab;
pub mod lang;
pub mod limits;
pub mod located;
pub mod migration;
pub mod ping;
pub mod preflight;
pub mod rng;
pub mod scenario;
pub mod simulator;
pub mod summary;
pub mod term;
pub mod text;
pub mod time;
pub mod tomlspan;
pub mod trace;
pub mod units;
pub mod world;

pub use error::{LabError, ScenarioError};
pub use ids::{HostId, VmId};
pub use lab::{Lab, LabCommand};
pub use lang::Lang;
pub use located::{Located, LocatedError, Location};
pub use scenario::Scenario;
pub use simulator::{SimLab, Simulator};
pub use summary::{PingStats, RunOutcome, RunSummary};
pub use text::Text;
pub use time::{SimDuration, SimTime};
pub use trace::{MigrationSample, Outcome, Phase, PingSample, Trace, TraceEvent, TraceKind};
