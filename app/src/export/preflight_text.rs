//! A preflight report as the table `migralab preflight` prints. The checks themselves live in
//! sim-core (or, measured, in the real backend); this only picks a language and lays them out.

use migralab_sim_core::lang::Lang;
use migralab_sim_core::preflight::{CheckStatus, PreflightReport};
use migralab_sim_core::text::Text;
use std::fmt;

/// The human-readable report.
pub struct PreflightText<'a> {
    /// The checks.
    pub report: &'a PreflightReport,
    /// Language.
    pub lang: Lang,
}

impl fmt::Display for PreflightText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.report;
        let l = self.lang;
        let head = Text::of("Pemeriksaan prasyarat", "Preflight").in_lang(l);
        let fix_w = Text::of("perbaikan", "fix").in_lang(l);
        let err_w = Text::of("pesan libvirt", "libvirt says").in_lang(l);
        writeln!(f, "{head}: {} {} → {}", r.vm, r.from, r.to)?;
        let width = r
            .checks
            .iter()
            .map(|c| l.pick(&c.title).chars().count())
            .max()
            .unwrap_or(0);
        for c in &r.checks {
            let status = match c.status {
                CheckStatus::Pass => "PASS",
                CheckStatus::Warn => "WARN",
                CheckStatus::Fail => "FAIL",
                // Real mode only: libvirt could not tell; the evidence says why.
                CheckStatus::Unknown => "????",
            };
            let title = l.pick(&c.title);
            let pad = width.saturating_sub(title.chars().count());
            writeln!(f, "  {status}  {title}{:pad$}  {}", "", l.pick(&c.evidence))?;
            if c.status != CheckStatus::Pass && !l.pick(&c.fix).is_empty() {
                writeln!(f, "        {fix_w}: {}", l.pick(&c.fix))?;
            }
            if c.status == CheckStatus::Fail
                && let Some(e) = &c.error
            {
                writeln!(
                    f,
                    "        {err_w}: {}",
                    e.virsh_line().replace('\n', "\n        ")
                )?;
            }
        }
        writeln!(f)?;
        match r.first_failure() {
            Some(c) => writeln!(
                f,
                "{} \"{}\":",
                Text::of(
                    "Hasil: `virsh migrate` akan GAGAL pada pemeriksaan",
                    "Result: `virsh migrate` would FAIL on"
                )
                .in_lang(l),
                l.pick(&c.title)
            )?,
            None => writeln!(
                f,
                "{}",
                Text::of(
                    "Hasil: semua prasyarat terpenuhi; migrasi bisa berjalan.",
                    "Result: every prerequisite is met; the migration can run."
                )
                .in_lang(l)
            )?,
        }
        if let Some(e) = r.first_failure().and_then(|c| c.error.as_ref()) {
            writeln!(f, "  {}", e.virsh_line().replace('\n', "\n  "))?;
        }
        Ok(())
    }
}
