//! The ranges libvirt and QEMU accept for the migration tunables, and the errors they give
//! outside them: one source for the scenario validator and the lab shell's `virsh`.
//!
//! Sources: QEMU `migration/options.c` `migrate_params_check` (QERR_INVALID_PARAMETER_VALUE,
//! "Parameter '%s' expects %s"; `MAX_MIGRATE_DOWNTIME` is `(MAX_MIGRATE_DOWNTIME_SECONDS * 1000)`
//! and `stringify` prints that expression, not its value); libvirt
//! `src/qemu/qemu_monitor_json.c` (`unable to execute QEMU command '%1$s': %2$s`, an internal
//! error), `src/qemu/qemu_migration_params.c` `qemuMigrationParamsFromFlags` ("Turn auto
//! convergence on to tune it", "Turn parallel migration on to tune it", invalid-argument
//! errors) and `tools/virsh-domain.c` `cmdMigrateSetMaxDowntime` ("migrate: Invalid downtime"
//! below 1 ms).

use std::ops::RangeInclusive;

/// Downtime limits in ms: virsh refuses anything below 1, QEMU anything above 2000 s.
pub const DOWNTIME_LIMIT_MS: RangeInclusive<u64> = 1..=2_000_000;

/// `--auto-converge-initial` and `--auto-converge-increment` in percent (QEMU's
/// `cpu_throttle_initial` and `cpu_throttle_increment`).
pub const THROTTLE_PCT: RangeInclusive<u64> = 1..=99;

/// libvirt's wording for an error QEMU's `migrate-set-parameters` gave (without `error: `).
fn qemu_parameter_error(param: &str, expects: &str) -> String {
    format!(
        "internal error: unable to execute QEMU command 'migrate-set-parameters': Parameter '{param}' expects {expects}"
    )
}

/// QEMU's refusal of a downtime limit above [`DOWNTIME_LIMIT_MS`] (libvirt passes it on).
pub fn downtime_too_long(ms: u64) -> Option<String> {
    (ms > *DOWNTIME_LIMIT_MS.end()).then(|| {
        qemu_parameter_error(
            "downtime_limit",
            "an integer in the range of 0 to (2000 * 1000) ms",
        )
    })
}

/// QEMU's refusal of an auto-converge step outside [`THROTTLE_PCT`]; `increment` picks which.
pub fn throttle_out_of_range(pct: u64, increment: bool) -> Option<String> {
    let param = if increment {
        "cpu_throttle_increment"
    } else {
        "cpu_throttle_initial"
    };
    (!THROTTLE_PCT.contains(&pct))
        .then(|| qemu_parameter_error(param, "an integer in the range of 1 to 99"))
}

/// libvirt's refusal of auto-converge tunables without `--auto-converge`.
pub const AUTO_CONVERGE_OFF: &str = "invalid argument: Turn auto convergence on to tune it";

/// libvirt's refusal of `--parallel-connections` without `--parallel`.
pub const PARALLEL_OFF: &str = "invalid argument: Turn parallel migration on to tune it";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_qemus_words() {
        assert_eq!(downtime_too_long(2_000_000), None);
        assert_eq!(
            downtime_too_long(2_000_001).as_deref(),
            Some(
                "internal error: unable to execute QEMU command 'migrate-set-parameters': Parameter 'downtime_limit' expects an integer in the range of 0 to (2000 * 1000) ms"
            )
        );
        assert_eq!(throttle_out_of_range(99, false), None);
        assert!(
            throttle_out_of_range(0, true).is_some_and(|e| e.contains("'cpu_throttle_increment'"))
        );
        assert!(
            throttle_out_of_range(100, false).is_some_and(|e| e.contains("'cpu_throttle_initial'"))
        );
    }
}
