//! Acting on a migration at the lab time the app shows.
//!
//! The app runs a line at once and then plays its migration back, so by the time the student
//! presses Ctrl-C (or types `virsh domjobabort` in a second terminal) the shell is already past
//! that moment. The app keeps a copy of the shell from before the line ([`Shell`] is `Clone` and
//! deterministic), replays the line with [`Shell::run_line_until`], which parks a foreground
//! `virsh migrate` still running at the shown time, then acts ([`Shell::interrupt`], or any line
//! run while parked) and lets the parked command end ([`Shell::resume`]).
//!
//! A parked command ends its line: what follows it on the line (`; virsh list`) is not run.

use super::{Io, LINE_TIME_BUDGET, Shell, ShellOutput, Signal};
use migralab_sim_core::text::Text;
use migralab_sim_core::time::{SimDuration, SimTime};

impl Shell {
    /// Run `line` as [`Shell::run_line`] does, except that a foreground `virsh migrate` still
    /// running at lab time `at` stops there, parked: see [`Shell::is_parked`].
    pub fn run_line_until(&mut self, line: &str, at: SimTime) -> ShellOutput {
        self.park_at = Some(at);
        let out = self.run_line(line);
        self.park_at = None;
        out
    }

    /// Is a `virsh migrate` parked in the foreground by [`Shell::run_line_until`]?
    pub fn is_parked(&self) -> bool {
        self.parked_slot().is_some()
    }

    fn parked_slot(&self) -> Option<usize> {
        self.jobs.iter().position(|j| j.id == 0)
    }

    /// Ctrl-C in the terminal of the parked `virsh migrate`. Once its job has started, virsh
    /// turns the terminal's interrupt character off and non-canonical mode on, reads Ctrl-C from
    /// stdin and calls virDomainAbortJob (tools/virsh-domain.c `virshWatchJob`,
    /// `virshWatchInterrupt`; tools/vsh.c `vshTTYDisableInterrupt`); the terminal echoes `^C`.
    /// The job is cancelled and the guest keeps running on the source. Returns the rest of the
    /// command's output; nothing happens without a parked command.
    pub fn interrupt(&mut self) -> ShellOutput {
        if let Some(slot) = self.parked_slot()
            && !self.jobs[slot].finished
        {
            self.jobs[slot].io.outln("^C");
            self.signal_job(slot, Signal::Int);
        }
        self.resume()
    }

    /// Let the parked command run to its end; returns the rest of its output (what it printed
    /// before it was parked included) and its status.
    pub fn resume(&mut self) -> ShellOutput {
        self.run_parked(None)
    }

    /// Let the parked command run until it ends or lab time reaches `at`, where it is parked
    /// again (then nothing is returned yet: its output comes with its end).
    pub fn resume_until(&mut self, at: SimTime) -> ShellOutput {
        self.run_parked(Some(at))
    }

    fn run_parked(&mut self, until: Option<SimTime>) -> ShellOutput {
        self.hint = None;
        self.budget = LINE_TIME_BUDGET;
        let mut io = Io::default();
        let nothing = ShellOutput {
            text: String::new(),
            status: self.last_status,
        };
        let Some(slot) = self.parked_slot() else {
            return nothing;
        };
        while !self.jobs[slot].finished {
            if until.is_some_and(|t| self.sim.now() >= t) {
                return nothing;
            }
            if !self.step_once() {
                break;
            }
        }
        let status = if self.jobs[slot].finished {
            self.reap_job(slot, &mut io)
        } else {
            // Out of lab time, as in `virsh_migrate`: it goes on as a background job.
            let id = self.new_job_id();
            self.jobs[slot].id = id;
            self.jobs[slot].pid = self.take_pid();
            io.extend(std::mem::take(&mut self.jobs[slot].io));
            self.note(
                &mut io,
                &Text::new(
                    format!("migrasi masih berjalan; dipindah ke latar belakang sebagai job [{id}] (lihat `jobs`)."),
                    format!("the migration is still running; it now runs in the background as job [{id}] (see `jobs`)."),
                ),
            );
            0
        };
        self.flush_jobs(&mut io);
        self.last_status = status;
        self.terminal_output(io, status)
    }

    /// Are background jobs still running (`virsh migrate ... &`, `ping ... &`, `sleep ... &`)?
    pub fn has_running_jobs(&self) -> bool {
        self.jobs.iter().any(|j| j.id > 0 && !j.finished)
    }

    /// Let `d` of lab time pass while nothing is typed, as the app does while background jobs
    /// run (its clock follows the wall clock then). Returns what the jobs printed to the
    /// terminal meanwhile (bash shows a finished job's `Done` line only at the next prompt).
    pub fn advance(&mut self, d: SimDuration) -> String {
        if !self.has_running_jobs() || self.is_parked() {
            return String::new();
        }
        self.budget = LINE_TIME_BUDGET;
        self.advance_by(d);
        let mut io = Io::default();
        self.show_job_output(&mut io);
        io.chunks.into_iter().map(|(_, s)| s).collect()
    }

    /// Lab time that passes for each line typed while a job runs (1 s by default). The app
    /// sets it to zero for a line it runs at the time it shows.
    pub fn set_typing_time(&mut self, d: SimDuration) {
        self.typing_time = d;
    }

    /// The lab time that passes for each line typed while a job runs, by default.
    pub const TYPING_TIME: SimDuration = super::TYPING_TIME;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use migralab_sim_core::Scenario;
    use migralab_sim_core::lang::Lang;
    use migralab_sim_core::trace::Outcome;

    /// A guest that rewrites its hot set faster than the link carries: it never converges.
    fn busy() -> Shell {
        let scenario = Scenario::from_toml_str(
            r#"
name = "busy"
seed = 42
[[host]]
name = "kvm-host-01"
ip = "192.168.100.11"
[[host]]
name = "kvm-host-02"
ip = "192.168.100.12"
[link]
bandwidth_mibps = 112.0
[storage]
kind = "shared"
[[vm]]
name = "db01"
host = "kvm-host-01"
ip = "192.168.100.50"
ram_mib = 512
[vm.workload]
kind = "hot-set"
set_mib = 256
rate_mibps = 150.0
[sim]
max_time_s = 60.0
"#,
        )
        .unwrap();
        Shell::new(scenario, Lang::En)
    }

    const MIGRATE: &str = "virsh migrate --live --verbose db01 qemu+ssh://kvm-host-02/system";

    fn at(s: f64) -> SimTime {
        SimTime::ZERO + SimDuration::from_ms_f64(s * 1000.0)
    }

    #[test]
    fn ctrl_c_at_a_lab_time_cancels_the_job_there_and_the_guest_stays_on_the_source() {
        let before = busy();
        let mut full = before.clone();
        let whole = full.run_line(MIGRATE);
        let full_run = full.poll_run().unwrap();
        assert!(
            matches!(full_run.outcome(), Some(Outcome::NotConverged { .. })),
            "{}",
            whole.text
        );

        let mut s = before.clone();
        let first = s.run_line_until(MIGRATE, at(12.0));
        assert!(s.is_parked());
        assert!(s.poll_run().is_none(), "still running");
        assert_eq!(s.now(), at(12.0), "parked at the time asked");
        let rest = s.interrupt();
        assert!(!s.is_parked());
        assert_eq!(rest.status, 1);
        let text = format!("{}{}", first.text, rest.text);
        assert!(text.contains("Migration: ["), "{text}");
        assert!(
            text.contains("^C\nerror: operation aborted: job 'migration out' canceled by client"),
            "{text}"
        );
        let run = s.poll_run().unwrap();
        assert!(run.foreground, "Ctrl-C reached virsh in its terminal");
        let Some(Outcome::Aborted { at_ms }) = run.outcome() else {
            panic!("{:?}", run.outcome());
        };
        assert!((12_000..12_100).contains(at_ms), "{at_ms}");
        assert!(run.ended < full_run.ended, "the plots stop at the abort");
        assert!(
            s.run_line("virsh domstate db01")
                .text
                .starts_with("running"),
            "still on the source"
        );
        // libvirt keeps no statistics of a cancelled migration (the lab in a box).
        let info = s.run_line("virsh domjobinfo db01 --completed").text;
        assert!(info.starts_with("Job type:         None"), "{info}");
    }

    #[test]
    fn a_line_run_while_parked_acts_at_the_parked_time_and_the_migration_then_goes_on() {
        let mut s = busy();
        s.run_line_until(MIGRATE, at(8.0));
        s.set_typing_time(SimDuration::ZERO);
        let info = s.run_line("virsh domjobinfo db01").text;
        assert!(info.contains("Unbounded"), "{info}");
        assert!(info.contains("Time elapsed:     8000 "), "{info}");
        let abort = s.run_line("virsh domjobabort db01");
        assert_eq!(abort.status, 0, "{}", abort.text);
        s.set_typing_time(Shell::TYPING_TIME);
        let rest = s.resume();
        assert!(
            rest.text
                .ends_with("error: operation aborted: job 'migration out' canceled by client\n"),
            "{}",
            rest.text
        );
        let run = s.poll_run().unwrap();
        assert!(
            matches!(run.outcome(), Some(Outcome::Aborted { at_ms }) if (8000..8100).contains(at_ms)),
            "{:?}",
            run.outcome()
        );
    }

    #[test]
    fn lab_time_passes_for_background_jobs_without_a_line_typed() {
        let mut s = busy();
        assert_eq!(s.advance(SimDuration::from_secs(5)), "", "nothing runs");
        assert_eq!(s.now(), SimTime::ZERO);
        s.run_line(&format!("{MIGRATE} &"));
        assert!(s.has_running_jobs());
        let shown = s.advance(SimDuration::from_secs(10));
        assert_eq!(s.now(), at(10.0));
        assert!(shown.contains("Migration: ["), "{shown}");
        let info = s.run_line("virsh domjobinfo db01").text;
        assert!(
            info.contains("Time elapsed:     11"),
            "one more second typing: {info}"
        );
        let abort = s.run_line("virsh domjobabort db01");
        assert!(abort.text.contains("canceled by client"), "{}", abort.text);
        assert!(!s.has_running_jobs());
        let run = s.poll_run().unwrap();
        assert!(!run.foreground, "a `&` job");
        assert!(
            matches!(run.outcome(), Some(Outcome::Aborted { at_ms }) if (12_000..12_100).contains(at_ms))
        );
    }

    #[test]
    fn a_line_that_ends_before_the_time_is_not_parked_and_matches_the_plain_run() {
        let mut a = busy();
        let mut b = a.clone();
        let plain = a.run_line("virsh list --all");
        let until = b.run_line_until("virsh list --all", at(5.0));
        assert_eq!(plain, until);
        assert!(!b.is_parked());
        assert_eq!(b.interrupt().text, "", "nothing to interrupt");
    }
}
