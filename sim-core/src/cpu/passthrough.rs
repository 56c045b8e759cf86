//! What happens to a `host-passthrough` guest moved to a host whose CPU lacks features it was
//! using. libvirt does not check this mode at all, so the answer comes from QEMU and KVM.
//!
//! The rule, and where each part of it comes from:
//! - libvirt gives `host-passthrough` `check='none'` and skips the comparison with the
//!   destination (`qemuProcessUpdateGuestCPU`: "nothing to update for host-passthrough /
//!   maximum"; `virCPUUpdateLive` only checks custom CPUs or `check='full'`). The migration
//!   starts whatever the CPUs are.
//! - The destination QEMU runs `-cpu host`: the guest's CPUID there is the *destination's*. The
//!   guest kernel and its programs, however, chose what to use at boot, on the source.
//! - After the last RAM page and the device state arrive, the destination QEMU puts the vCPU
//!   state into KVM (`cpu_synchronize_all_post_init` → `kvm_arch_put_registers`, QEMU
//!   target/i386/kvm/kvm.c). It puts the special registers first, then the XSAVE area, then XCR0.
//!   KVM refuses a CR4 bit the vCPU's CPUID does not allow (`__cr4_reserved_bits`,
//!   arch/x86/kvm/x86.h) and an XSAVE image with state components it does not offer: the ioctl
//!   fails with EINVAL, QEMU prints `Putting registers after init: Failed to set special
//!   registers: Invalid argument` (or `... XSAVE ...`) and exits. The migration fails *late*,
//!   after all RAM was copied, and the guest resumes on the source.
//! - A feature that is only instructions (adx, rdseed, avx512vnni, ...) has no state to load:
//!   the migration completes, and the first program that executes one of them on the new CPU
//!   gets an invalid-opcode fault (#UD): the kernel logs `traps: ... trap invalid opcode` and
//!   kills it with SIGILL.
//!
//! A Linux guest turns on every CR4 feature its CPU offers at boot (SMEP, SMAP, UMIP, FSGSBASE,
//! PKU, PCID, OSXSAVE, LA57 with 5-level paging). VMX (CR4.VMXE) only matters to a guest that runs
//! VMs itself, which the lab's guests do not, so it is not listed.

use super::{CpuDef, CpuError, CpuMap};

/// Features whose CR4 enable bit a Linux guest sets at boot when its CPU has them (libvirt names).
const CR4_FEATURES: &[&str] = &[
    "xsave", "smep", "smap", "fsgsbase", "pku", "la57", "umip", "pcid",
];

/// Features that add state components to the XSAVE area (AVX's YMM halves, AVX-512's opmask and
/// ZMM registers, MPX's bound registers, PKRU, AMX's tiles).
const XSAVE_STATE_FEATURES: &[&str] = &["avx", "avx512f", "mpx", "pku", "amx-tile"];

/// Features that are model-specific registers a guest reads at boot (speculation-control and
/// vulnerability reports, TSC details) rather than instructions: missing on the destination, the
/// guest has nothing to load and nothing to execute. (A non-zero SPEC_CTRL the destination
/// cannot take would stop QEMU too; Linux guests leave it 0 unless a mitigation needs it, and
/// the lab assumes that.)
const MSR_FEATURES: &[&str] = &[
    "arch-capabilities",
    "ssbd",
    "amd-ssbd",
    "virt-ssbd",
    "md-clear",
    "stibp",
    "spec-ctrl",
    "ibpb",
    "amd-stibp",
    "tsc_adjust",
    "pdcm",
    "invtsc",
    "rdctl-no",
    "ibrs-all",
    "skip-l1dfl-vmentry",
    "mds-no",
    "pschange-mc-no",
    "tsx-ctrl",
    "taa-no",
];

/// The part of the vCPU state the destination's KVM refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusedState {
    /// CR4 (`KVM_SET_SREGS`): a protection or paging feature the guest kernel switched on.
    SpecialRegisters,
    /// The XSAVE area (`KVM_SET_XSAVE`): register state of a vector or other extension.
    Xsave,
}

impl RefusedState {
    /// QEMU's words for the failed put (`kvm_arch_put_registers`).
    pub fn qemu_message(self) -> &'static str {
        match self {
            RefusedState::SpecialRegisters => {
                "Putting registers after init: Failed to set special registers: Invalid argument"
            }
            RefusedState::Xsave => {
                "Putting registers after init: Failed to set XSAVE: Invalid argument"
            }
        }
    }
}

/// The outcome for a `host-passthrough` guest moved from one CPU to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PassthroughOutcome {
    /// Nothing the guest uses is missing on the destination: the migration works (the guest
    /// sees the new CPU's CPUID but keeps using what it chose at boot). `missing` lists
    /// registers it read at boot that the new CPU lacks, if any.
    Works {
        /// Missing MSR-only features, in libvirt's order (empty when the destination has all).
        missing: Vec<String>,
    },
    /// The destination QEMU cannot load the vCPU state: the migration fails after the RAM copy.
    FailsLate {
        /// Which state KVM refuses first.
        state: RefusedState,
        /// The missing features that carry that state, in libvirt's order.
        features: Vec<String>,
        /// Every missing feature, in libvirt's order.
        missing: Vec<String>,
    },
    /// The migration completes; a program that uses one of these instructions then faults.
    FaultsLater {
        /// The missing instruction features, in libvirt's order.
        instructions: Vec<String>,
        /// Every missing feature, in libvirt's order.
        missing: Vec<String>,
    },
}

impl CpuMap {
    /// What happens when a `host-passthrough` guest that booted on `source` moves to `dest`.
    ///
    /// # Errors
    /// An unknown model or feature in either CPU.
    pub fn passthrough_outcome(
        &self,
        source: &CpuDef,
        dest: &CpuDef,
    ) -> Result<PassthroughOutcome, CpuError> {
        let had = self.expand(source)?;
        let has = self.expand(dest)?;
        let missing = self.in_map_order(had.difference(&has));

        let among = |list: &[&str]| -> Vec<String> {
            missing
                .iter()
                .filter(|f| list.contains(&f.as_str()))
                .cloned()
                .collect()
        };
        let cr4 = among(CR4_FEATURES);
        if !cr4.is_empty() {
            return Ok(PassthroughOutcome::FailsLate {
                state: RefusedState::SpecialRegisters,
                features: cr4,
                missing,
            });
        }
        let xsave = among(XSAVE_STATE_FEATURES);
        if !xsave.is_empty() {
            return Ok(PassthroughOutcome::FailsLate {
                state: RefusedState::Xsave,
                features: xsave,
                missing,
            });
        }
        let instructions: Vec<String> = missing
            .iter()
            .filter(|f| !MSR_FEATURES.contains(&f.as_str()))
            .cloned()
            .collect();
        if instructions.is_empty() {
            return Ok(PassthroughOutcome::Works { missing });
        }
        Ok(PassthroughOutcome::FaultsLater {
            instructions,
            missing,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn outcome(source: &str, dest: &str) -> PassthroughOutcome {
        let map = CpuMap::x86().unwrap();
        map.passthrough_outcome(&CpuDef::named(source), &CpuDef::named(dest))
            .unwrap()
    }

    #[test]
    fn the_same_or_a_newer_cpu_works() {
        let same = outcome("Haswell-noTSX-IBRS", "Haswell-noTSX-IBRS");
        assert_eq!(same, PassthroughOutcome::Works { missing: vec![] });
        let newer = outcome("Haswell-noTSX-IBRS", "Skylake-Client-noTSX-IBRS");
        assert_eq!(newer, PassthroughOutcome::Works { missing: vec![] });
    }

    #[test]
    fn a_missing_cr4_feature_fails_at_the_special_registers() {
        // Haswell has no SMAP, which a Linux guest booted on Skylake switched on in CR4.
        match outcome("Skylake-Client-noTSX-IBRS", "Haswell-noTSX-IBRS") {
            PassthroughOutcome::FailsLate {
                state,
                features,
                missing,
            } => {
                assert_eq!(state, RefusedState::SpecialRegisters);
                assert_eq!(features, ["smap"]);
                assert!(missing.contains(&"adx".to_string()), "{missing:?}");
                assert!(
                    state
                        .qemu_message()
                        .contains("Failed to set special registers"),
                    "{}",
                    state.qemu_message()
                );
            }
            other => panic!("expected a late failure, got {other:?}"),
        }
    }

    #[test]
    fn missing_vector_state_fails_at_the_xsave_area() {
        // AVX-512's registers live in the XSAVE area; a client Skylake has none of them.
        match outcome("Skylake-Server-noTSX-IBRS", "Skylake-Client-noTSX-IBRS") {
            PassthroughOutcome::FailsLate {
                state, features, ..
            } => {
                assert_eq!(state, RefusedState::Xsave);
                assert_eq!(features, ["avx512f"]);
            }
            other => panic!("expected a late failure, got {other:?}"),
        }
    }

    #[test]
    fn missing_instructions_only_fault_later() {
        // Cascade Lake adds AVX-512 VNNI to Skylake-Server: new instructions, no new state.
        match outcome("Cascadelake-Server-noTSX", "Skylake-Server-noTSX-IBRS") {
            PassthroughOutcome::FaultsLater {
                instructions,
                missing,
            } => {
                // ssbd is a register the guest read at boot, not an instruction.
                assert_eq!(instructions, ["clflushopt", "avx512vnni"]);
                assert!(missing.contains(&"ssbd".to_string()), "{missing:?}");
            }
            other => panic!("expected a fault after the move, got {other:?}"),
        }
    }

    #[test]
    fn missing_registers_read_at_boot_change_nothing() {
        let map = CpuMap::x86().unwrap();
        let source = CpuDef::named("Haswell-noTSX-IBRS").with_required(["arch-capabilities"]);
        let dest = CpuDef::named("Haswell-noTSX-IBRS");
        assert_eq!(
            map.passthrough_outcome(&source, &dest).unwrap(),
            PassthroughOutcome::Works {
                missing: vec!["arch-capabilities".into()]
            }
        );
    }
}
