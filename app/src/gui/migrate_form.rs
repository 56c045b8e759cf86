//! The migrate form's controls, one widget for both labs: each checkbox is a `virsh migrate`
//! flag of the form's [`MigrationSpec`](migralab_sim_core::scenario::MigrationSpec), each number
//! one of its values. The two modes differ only in which rows they show: the simulated lab's
//! terminal also takes `--verbose` and `--timeout` and switches post-copy and the tunnel as one
//! each; real mode offers `--p2p` alone and sets libvirt's downtime limit.

use crate::sessions::migrate_form::MigrateForm;
use crate::tr;
use migralab_sim_core::lang::Lang;

/// Which lab the form is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The simulated lab: the command is typed into its terminal.
    Simulated,
    /// Real hosts through libvirt.
    Real,
}

/// One checkbox of the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flag {
    Live,
    Persistent,
    Undefinesource,
    CopyStorageAll,
    P2p,
    Tunnelled,
    /// `--p2p --tunnelled` as one switch.
    P2pTunnelled,
    AutoConverge,
    /// `--postcopy`; in the simulated lab with `--postcopy-after-precopy`, so it switches.
    Postcopy,
    Verbose,
}

/// One number of the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Number {
    Bandwidth,
    Timeout,
    Downtime,
}

const SIMULATED_FLAGS: [Flag; 8] = [
    Flag::Live,
    Flag::Persistent,
    Flag::Undefinesource,
    Flag::CopyStorageAll,
    Flag::AutoConverge,
    Flag::Postcopy,
    Flag::P2pTunnelled,
    Flag::Verbose,
];

const REAL_FLAGS: [Flag; 8] = [
    Flag::Live,
    Flag::Persistent,
    Flag::Undefinesource,
    Flag::CopyStorageAll,
    Flag::P2p,
    Flag::Tunnelled,
    Flag::AutoConverge,
    Flag::Postcopy,
];

impl Flag {
    /// What the checkbox says: the flag as typed.
    fn label(self) -> &'static str {
        match self {
            Flag::Live => "--live",
            Flag::Persistent => "--persistent",
            Flag::Undefinesource => "--undefinesource",
            Flag::CopyStorageAll => "--copy-storage-all",
            Flag::P2p => "--p2p",
            Flag::Tunnelled => "--tunnelled",
            Flag::P2pTunnelled => "--p2p --tunnelled",
            Flag::AutoConverge => "--auto-converge",
            Flag::Postcopy => "--postcopy",
            Flag::Verbose => "--verbose",
        }
    }

    /// What hovering it explains.
    fn help(self, lang: Lang) -> String {
        match self {
            Flag::Live => tr!(lang, "flag-live"),
            Flag::Persistent => tr!(lang, "flag-persistent"),
            Flag::Undefinesource => tr!(lang, "flag-undefinesource"),
            Flag::CopyStorageAll => tr!(lang, "flag-copy-storage-all"),
            Flag::P2p => tr!(lang, "real-flag-p2p"),
            Flag::Tunnelled | Flag::P2pTunnelled => tr!(lang, "flag-tunnelled"),
            Flag::AutoConverge => tr!(lang, "flag-auto-converge"),
            Flag::Postcopy => tr!(lang, "flag-postcopy"),
            Flag::Verbose => tr!(lang, "flag-verbose"),
        }
    }

    fn get(self, form: &MigrateForm) -> bool {
        let s = &form.spec;
        match self {
            Flag::Live => s.live,
            Flag::Persistent => s.persistent,
            Flag::Undefinesource => s.undefinesource,
            Flag::CopyStorageAll => s.copy_storage_all,
            Flag::P2p => s.p2p,
            Flag::Tunnelled | Flag::P2pTunnelled => s.tunnelled,
            Flag::AutoConverge => s.auto_converge,
            Flag::Postcopy => s.postcopy,
            Flag::Verbose => form.verbose,
        }
    }

    fn set(self, form: &mut MigrateForm, mode: Mode, on: bool) {
        let s = &mut form.spec;
        match self {
            Flag::Live => s.live = on,
            Flag::Persistent => s.persistent = on,
            Flag::Undefinesource => s.undefinesource = on,
            Flag::CopyStorageAll => s.copy_storage_all = on,
            Flag::P2p => s.p2p = on,
            Flag::Tunnelled => s.tunnelled = on,
            Flag::P2pTunnelled => (s.p2p, s.tunnelled) = (on, on),
            Flag::AutoConverge => s.auto_converge = on,
            Flag::Postcopy => {
                s.postcopy = on;
                s.postcopy_after_precopy = on && mode == Mode::Simulated;
            }
            Flag::Verbose => form.verbose = on,
        }
    }
}

/// The flags' checkboxes, then the numbers.
pub fn options_ui(ui: &mut egui::Ui, lang: Lang, form: &mut MigrateForm, mode: Mode) {
    let flags = match mode {
        Mode::Simulated => SIMULATED_FLAGS,
        Mode::Real => REAL_FLAGS,
    };
    ui.horizontal_wrapped(|ui| {
        for flag in flags {
            let mut on = flag.get(form);
            if ui
                .checkbox(&mut on, egui::RichText::new(flag.label()).monospace())
                .on_hover_text(flag.help(lang))
                .changed()
            {
                flag.set(form, mode, on);
            }
        }
    });
    if mode == Mode::Real && form.spec.tunnelled {
        // libvirt tunnels only peer-to-peer migrations; the spec adds --p2p, show it.
        form.spec.p2p = true;
    }
    match mode {
        Mode::Simulated => {
            ui.horizontal(|ui| {
                number_ui(ui, lang, form, Number::Bandwidth);
                number_ui(ui, lang, form, Number::Timeout);
            });
        }
        Mode::Real => {
            ui.horizontal_wrapped(|ui| {
                number_ui(ui, lang, form, Number::Bandwidth);
                number_ui(ui, lang, form, Number::Downtime);
            });
        }
    }
}

/// A number's label and its field; 0 in an optional one means "not given".
fn number_ui(ui: &mut egui::Ui, lang: Lang, form: &mut MigrateForm, number: Number) {
    let s = &mut form.spec;
    let (label, hover, suffix, range, value) = match number {
        Number::Bandwidth => (
            "--bandwidth".to_string(),
            tr!(lang, "flag-bandwidth"),
            " MiB/s",
            0..=100_000,
            s.bandwidth_mibps.unwrap_or(0),
        ),
        Number::Timeout => (
            "--timeout".to_string(),
            tr!(lang, "flag-timeout"),
            " s",
            0..=86_400,
            s.timeout_s.unwrap_or(0),
        ),
        Number::Downtime => (
            tr!(lang, "real-downtime"),
            tr!(lang, "real-downtime-hover"),
            " ms",
            1..=60_000,
            s.downtime_limit_ms,
        ),
    };
    let mut v = value;
    ui.label(label.clone());
    ui.add(egui::DragValue::new(&mut v).range(range).suffix(suffix))
        .on_hover_text(hover)
        .widget_info(|| egui::WidgetInfo::labeled(egui::Role::SpinButton, true, label.clone()));
    if v != value {
        match number {
            Number::Bandwidth => s.bandwidth_mibps = (v > 0).then_some(v),
            Number::Timeout => s.timeout_s = (v > 0).then_some(v),
            Number::Downtime => s.downtime_limit_ms = v,
        }
    }
}
