//! "Reading domjobinfo": every line `virsh domjobinfo` prints for a migration, explained, for the
//! Experiments guide (Experiment 3 reads it while a migration that does not converge runs).
//!
//! Sources: the labels, their order and when each is printed are cmdDomjobinfo's
//! (tools/virsh-domain.c); the values come from libvirt's job statistics
//! (include/libvirt/libvirt-domain.h `VIR_DOMAIN_JOB_*`), which the QEMU driver fills from
//! QEMU's `query-migrate` (src/qemu/qemu_monitor_json.c, qemu_domainjob.c: "Data" = memory +
//! disk; `mbps` in 10^6 bit/s turned into bytes/s; `dirty-sync-count` → Iteration; `duplicate`
//! → Constant pages; `postcopy-requests` → Postcopy requests). QEMU's side: migration/ram.c and
//! migration/migration.c (expected downtime = dirty bytes at the last sync / bandwidth; the
//! dirty rate averaged over ≥ 1 s; the auto-converge throttle). Collected with their sources in
//! reference/migration-facts.md §1.2–1.4 and §2.1–2.3.

use crate::tr;
use migralab_sim_core::lang::Lang;
use migralab_sim_core::text::Text;

/// One line of `virsh domjobinfo` and what it means.
pub struct JobField {
    /// The label as virsh prints it.
    pub label: &'static str,
    /// What it means.
    pub meaning: Text<&'static str>,
}

/// Every line a migration's `virsh domjobinfo` can print (compression lines aside), in
/// cmdDomjobinfo's order.
pub const FIELDS: &[JobField] = &[
    JobField {
        label: "Job type",
        meaning: Text {
            id: "Unbounded = job berjalan dan waktu selesainya tidak diketahui (migrasi selalu begini). Dengan `--completed`: Completed atau Failed; migrasi yang dibatalkan (Ctrl-C atau `virsh domjobabort`) tidak meninggalkan statistik, jadi None. None = tidak ada job.",
            en: "Unbounded = a job is running and its end is not known (a migration always is). With `--completed`: Completed or Failed; a cancelled migration (Ctrl-C or `virsh domjobabort`) leaves no statistics, so None. None = no job.",
        },
    },
    JobField {
        label: "Operation",
        meaning: Text {
            id: "Outgoing migration di host sumber, Incoming migration di host tujuan. Statistik di bawah hanya ada di host sumber.",
            en: "Outgoing migration on the source host, Incoming migration on the destination. The statistics below exist on the source only.",
        },
    },
    JobField {
        label: "Time elapsed",
        meaning: Text {
            id: "Milidetik sejak job dimulai, diukur oleh libvirt (termasuk persiapan). `w/o network` (setelah selesai) mengurangi waktu yang dipakai statistik untuk pindah antar host.",
            en: "Milliseconds since the job started, measured by libvirt (setup included). `w/o network` (once completed) subtracts the time the statistics took to travel between the hosts.",
        },
    },
    JobField {
        label: "Data processed / remaining / total",
        meaning: Text {
            id: "Memori + disk (baris `File`) bersama. Progres `--verbose` dihitung dari sini: 100 − remaining × 100 / total, jadi bisa mundur ketika `remaining` naik.",
            en: "Memory + disk (the `File` lines) together. The `--verbose` progress is computed from them: 100 − remaining × 100 / total, so it goes back when `remaining` grows.",
        },
    },
    JobField {
        label: "Memory processed",
        meaning: Text {
            id: "Byte RAM yang sudah dikirim, termasuk halaman yang dikirim ulang. Bisa jauh lebih besar daripada `Memory total`: tanda bahwa banyak dirty page dikirim berkali-kali.",
            en: "RAM bytes sent so far, pages sent again included. It can grow far beyond `Memory total`: a sign that many dirty pages were sent several times.",
        },
    },
    JobField {
        label: "Memory remaining",
        meaning: Text {
            id: "RAM yang masih kotor (jumlah dirty page × ukuran halaman): yang masih harus dikirim. Migrasi hanya selesai jika angka ini turun sampai bisa dikirim dalam batas downtime.",
            en: "RAM still dirty (dirty pages × page size): what still has to be sent. The migration only finishes when it falls far enough to be sent within the downtime limit.",
        },
    },
    JobField {
        label: "Memory total",
        meaning: Text {
            id: "Ukuran RAM VM.",
            en: "The VM's RAM size.",
        },
    },
    JobField {
        label: "Memory bandwidth",
        meaning: Text {
            id: "Throughput pengiriman yang terakhir diukur QEMU (QEMU melaporkan Mbit/s desimal, libvirt mengubahnya ke byte/s). Ambang selesai = bandwidth × batas downtime.",
            en: "The send throughput QEMU measured last (QEMU reports decimal Mbit/s, libvirt turns it into bytes/s). The completion threshold = bandwidth × downtime limit.",
        },
    },
    JobField {
        label: "Dirty rate",
        meaning: Text {
            id: "Halaman yang dikotori VM per detik, rata-rata ≥ 1 detik. Kalikan dengan `Page size` dan bandingkan dengan `Memory bandwidth`: kalau laju kotor mendekati atau melebihi bandwidth, pre-copy tidak konvergen.",
            en: "Pages the VM dirties per second, averaged over ≥ 1 s. Multiply by `Page size` and compare with `Memory bandwidth`: when the dirty rate comes close to the bandwidth or beyond, pre-copy does not converge.",
        },
    },
    JobField {
        label: "Page size",
        meaning: Text {
            id: "Ukuran halaman memori yang dihitung QEMU, 4096 byte di x86.",
            en: "The memory page size QEMU counts in, 4096 bytes on x86.",
        },
    },
    JobField {
        label: "Iteration",
        meaning: Text {
            id: "Berapa kali dirty bitmap disinkronkan (QEMU: dirty-sync-count). Putaran pertama mengirim seluruh RAM, setiap putaran berikutnya mengirim ulang yang dikotori. Angka yang terus naik tanpa akhir = tidak konvergen (QEMU tidak punya batas putaran).",
            en: "How many times the dirty bitmap was synchronised (QEMU: dirty-sync-count). The first pass sends all RAM, each later pass resends what was dirtied. A number that keeps climbing = not converging (QEMU has no pass limit).",
        },
    },
    JobField {
        label: "Postcopy requests",
        meaning: Text {
            id: "Setelah beralih ke post-copy: halaman yang diminta host tujuan dari host sumber karena VM menyentuh halaman yang belum tiba (page fault).",
            en: "After the switch to post-copy: pages the destination requested from the source because the VM touched a page that had not arrived yet (a page fault).",
        },
    },
    JobField {
        label: "File processed / remaining / total",
        meaning: Text {
            id: "Disk yang disalin lewat jaringan dengan `--copy-storage-all` (mirror NBD). Tidak muncul dengan shared storage.",
            en: "Disk data copied over the network with `--copy-storage-all` (an NBD mirror). Absent with shared storage.",
        },
    },
    JobField {
        label: "Constant pages",
        meaning: Text {
            id: "Halaman yang isinya nol semua (QEMU: duplicate): dikirim hanya sebagai header, hampir gratis.",
            en: "Pages that are all zeros (QEMU: duplicate): sent as a header only, almost free.",
        },
    },
    JobField {
        label: "Normal pages / Normal data",
        meaning: Text {
            id: "Halaman yang dikirim utuh (4 KiB masing-masing) dan jumlah byte-nya.",
            en: "Pages sent in full (4 KiB each) and their bytes.",
        },
    },
    JobField {
        label: "Expected downtime",
        meaning: Text {
            id: "Selama berjalan: berapa lama VM akan dijeda jika QEMU berhenti sekarang (data kotor pada sinkronisasi terakhir / bandwidth). Bandingkan dengan `virsh migrate-getmaxdowntime`: selama lebih besar, QEMU tidak akan berhenti.",
            en: "While running: how long the VM would be paused if QEMU stopped now (dirty data at the last sync / bandwidth). Compare with `virsh migrate-getmaxdowntime`: while it is larger, QEMU will not stop.",
        },
    },
    JobField {
        label: "Total downtime",
        meaning: Text {
            id: "Setelah selesai (`--completed`): berapa lama VM benar-benar dijeda. `Downtime w/o network` mengurangi waktu komunikasi antar host.",
            en: "Once completed (`--completed`): how long the VM was really paused. `Downtime w/o network` subtracts the time spent between the hosts.",
        },
    },
    JobField {
        label: "Setup time",
        meaning: Text {
            id: "Milidetik yang dipakai QEMU untuk bersiap sebelum mulai mengirim.",
            en: "Milliseconds QEMU spent setting up before it started sending.",
        },
    },
    JobField {
        label: "Auto converge throttle",
        meaning: Text {
            id: "Hanya dengan `--auto-converge`, selama throttle aktif: persen waktu vCPU yang diambil QEMU dari VM (mulai 20 %, naik 10 % setiap langkah, maksimal 99 %).",
            en: "Only with `--auto-converge`, while the throttle is on: the percentage of vCPU time QEMU takes away from the VM (20 % at first, 10 % more at each step, at most 99 %).",
        },
    },
    JobField {
        label: "Error message",
        meaning: Text {
            id: "Untuk job yang gagal, dengan `--completed --anystats`: alasannya, bila libvirt menyimpannya.",
            en: "For a failed job, with `--completed --anystats`: why it ended, when libvirt kept it.",
        },
    },
];

/// The first step of `exp` whose command reads `virsh domjobinfo` (the guide shows the panel
/// under it), if any.
pub fn first_domjobinfo_step(exp: &migralab_course::experiments::Experiment) -> Option<usize> {
    exp.steps.iter().position(|s| {
        s.command
            .as_deref()
            .is_some_and(|c| c.contains("virsh domjobinfo"))
    })
}

/// The collapsible "Reading domjobinfo" panel.
pub fn jobinfo_help_ui(ui: &mut egui::Ui, lang: Lang) {
    egui::CollapsingHeader::new(tr!(lang, "jobinfo-help"))
        .id_salt("jobinfo_help")
        .show(ui, |ui| {
            ui.label(tr!(lang, "jobinfo-help-intro"));
            egui::Grid::new("jobinfo_help_grid")
                .num_columns(2)
                .striped(true)
                .spacing([12.0, 4.0])
                .show(ui, |ui| {
                    for f in FIELDS {
                        ui.label(egui::RichText::new(f.label).monospace().strong());
                        ui.add(egui::Label::new(f.meaning.in_lang(lang).replace('`', "")).wrap());
                        ui.end_row();
                    }
                });
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_virsh_prints_for_a_migration_is_explained_in_both_languages() {
        // The labels the lab shell prints (it follows cmdDomjobinfo) for a running, a completed
        // and a cancelled migration.
        let printed = [
            "Job type",
            "Operation",
            "Time elapsed",
            "Data processed",
            "Memory processed",
            "Memory remaining",
            "Memory total",
            "Memory bandwidth",
            "Dirty rate",
            "Page size",
            "Iteration",
            "Postcopy requests",
            "File processed",
            "Constant pages",
            "Normal pages",
            "Normal data",
            "Expected downtime",
            "Total downtime",
            "Setup time",
            "Auto converge throttle",
            "Error message",
        ];
        for label in printed {
            let f = FIELDS
                .iter()
                .find(|f| {
                    f.label.split(" / ").any(|l| label.starts_with(l)) || f.label.contains(label)
                })
                .unwrap_or_else(|| panic!("`{label}` is not explained"));
            assert!(
                !f.meaning.id.is_empty() && !f.meaning.en.is_empty(),
                "{label}"
            );
        }
    }
}
