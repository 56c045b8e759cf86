//! The `Lab` trait: what every screen, report and test talks to, simulated or real.

use crate::error::LabError;
use crate::scenario::MigrationSpec;
use crate::time::{SimDuration, SimTime};
use crate::trace::TraceEvent;

/// Something a user (GUI, CLI, `virsh` shell) asks the lab to do.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum LabCommand {
    /// `virsh migrate ...`, starting now.
    Migrate(MigrationSpec),
    /// `virsh domjobabort VM`.
    Abort {
        /// Domain whose job to cancel.
        vm: String,
    },
    /// `virsh migrate-postcopy VM`.
    StartPostcopy {
        /// Domain to switch.
        vm: String,
    },
    /// `virsh migrate-setmaxdowntime VM MS`.
    SetMaxDowntime {
        /// Domain.
        vm: String,
        /// New downtime limit, ms.
        ms: u64,
    },
    /// `virsh migrate-setspeed VM MIBPS` (`None`: back to unlimited).
    SetSpeed {
        /// Domain.
        vm: String,
        /// New limit, MiB/s.
        mibps: Option<u64>,
    },
}

/// A lab that answers the same questions whether it is simulated or real.
pub trait Lab {
    /// Current lab time (simulated time, or wall time since the lab was opened).
    fn now(&self) -> SimTime;
    /// Ask the lab to do something. Refusals carry libvirt's wording.
    fn submit(&mut self, cmd: LabCommand) -> Result<(), LabError>;
    /// Let `budget` of lab time pass (the simulator steps; the real lab pumps its channels).
    fn advance(&mut self, budget: SimDuration);
    /// The next event, if one is ready; never blocks.
    fn poll_event(&mut self) -> Option<TraceEvent>;
    /// True when nothing is running and every event has been produced.
    fn is_idle(&self) -> bool;
}

/// Drive any lab until it is idle, collecting every event in the order it was produced. Each
/// `advance` covers `step` of lab time; the same body records a simulated or a real run.
pub fn record(lab: &mut dyn Lab, step: SimDuration) -> Vec<TraceEvent> {
    let mut events = Vec::new();
    loop {
        events.extend(std::iter::from_fn(|| lab.poll_event()));
        if lab.is_idle() {
            break;
        }
        lab.advance(step);
    }
    events.extend(std::iter::from_fn(|| lab.poll_event()));
    events
}
