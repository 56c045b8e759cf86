//! `ssh VM-IP COMMAND`: a lab guest answers a few commands about itself, so a student can read
//! what happened inside it (the kernel log of a program killed by an invalid opcode after a
//! `host-passthrough` migration, see [`migralab_sim_core::cpu::PassthroughOutcome::FaultsLater`]).
//!
//! The lab's guests accept root's key from the lab's hosts (they were installed that way). They
//! only run the commands below, one per `ssh`; the kernel log holds only the messages the lab
//! models, not a whole boot log.

use super::{Io, Shell};
use migralab_sim_core::text::Text;

/// The commands a guest answers.
const GUEST_COMMANDS: &[&str] = &["dmesg", "hostname"];

impl Shell {
    /// Run `words` in guest `vm` (reached by ssh). Returns the exit status.
    pub(super) fn guest_command(&mut self, vm: &str, words: &[String], io: &mut Io) -> i32 {
        let Some(cmd) = words.first() else {
            // An interactive login: the lab has no terminal inside its guests.
            self.note(
                io,
                &Text::new(
                    format!(
                        "lab ini tidak membuka terminal di dalam VM {vm}; jalankan satu perintah, misalnya `ssh IP-VM dmesg`."
                    ),
                    format!(
                        "the lab opens no terminal inside VM {vm}; run one command, e.g. `ssh VM-IP dmesg`."
                    ),
                ),
            );
            return 0;
        };
        match cmd.as_str() {
            "hostname" => {
                io.outln(vm);
                0
            }
            "dmesg" => {
                let lines = self.sim.guest_log(vm).to_vec();
                for l in &lines {
                    io.outln(l);
                }
                if lines.is_empty() {
                    self.set_hint(Text::new(
                        format!(
                            "log kernel {vm} di lab hanya memuat pesan yang dimodelkan lab, dan belum ada."
                        ),
                        format!(
                            "{vm}'s kernel log in the lab holds only the messages the lab models, and there are none yet."
                        ),
                    ));
                }
                0
            }
            other => {
                // A real guest has the command; the lab's do not simulate it.
                self.note(
                    io,
                    &Text::new(
                        format!(
                            "`{other}` tidak disimulasikan di dalam VM; VM di lab ini hanya menjawab: {}.",
                            GUEST_COMMANDS.join(", ")
                        ),
                        format!(
                            "`{other}` is not simulated inside VMs; the VMs in this lab only answer: {}.",
                            GUEST_COMMANDS.join(", ")
                        ),
                    ),
                );
                127
            }
        }
    }
}
