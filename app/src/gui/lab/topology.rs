//! The lab drawn as a picture: hosts, the bridge they share, the shared storage, the client that
//! pings, and the VMs, which visibly move while a run plays. A failed prerequisite of the
//! migration in the form is marked where it lives on the picture.
//!
//! "What to show" ([`Picture`]) is computed apart from "drawing it", so tests can check it.

use crate::sessions::lab::{LabSession, RunRecord};
use crate::tr;
use egui::{Align2, Color32, FontId, Pos2, Rect, Stroke, StrokeKind, Vec2};
use migralab_sim_core::lang::Lang;
use migralab_sim_core::preflight::{CheckId, CheckStatus, PreflightReport};
use migralab_sim_core::scenario::StorageKind;

/// Where a guest is drawn.
#[derive(Debug, Clone, PartialEq)]
pub enum GuestPlace {
    /// On a host, running or not.
    On {
        /// The host.
        host: String,
        /// Running (else shut off / transient leftover).
        running: bool,
    },
    /// Being migrated: pre-copy (`paused` false) or the stop-and-copy pause (`paused` true).
    Moving {
        /// Source host.
        from: String,
        /// Destination host.
        to: String,
        /// In the downtime window.
        paused: bool,
        /// 0..1 of the run's duration, for the pages in flight.
        progress: f64,
    },
}

/// A guest on the picture.
#[derive(Debug, Clone, PartialEq)]
pub struct GuestMark {
    /// Name.
    pub name: String,
    /// Where.
    pub place: GuestPlace,
}

/// What the picture shows, before any drawing.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Picture {
    /// Host names, left to right.
    pub hosts: Vec<String>,
    /// Shared storage path if the lab has one.
    pub shared_storage: Option<String>,
    /// Guests.
    pub guests: Vec<GuestMark>,
    /// Checks of the form's migration that fail or warn, in report order.
    pub problems: Vec<(CheckId, CheckStatus, String)>,
}

impl Picture {
    /// Compute the picture for the session, the playing run (if any, at `cursor_s`) and the
    /// preflight of the form's migration.
    pub fn of(
        session: &LabSession,
        playing: Option<(&RunRecord, f64)>,
        preflight: Option<&PreflightReport>,
        lang: Lang,
    ) -> Picture {
        let scenario = session.scenario();
        let hosts: Vec<String> = scenario.hosts.iter().map(|h| h.name.clone()).collect();
        let shared_storage =
            (scenario.storage.kind == StorageKind::Shared).then(|| scenario.storage.path.clone());
        let mut guests = Vec::new();
        for host in &hosts {
            for d in session.world().domains_on(host) {
                guests.push(GuestMark {
                    name: d.name.clone(),
                    place: GuestPlace::On {
                        host: host.clone(),
                        running: d.state.as_str() == "running",
                    },
                });
            }
        }
        if let Some((run, t)) = playing
            && run.scenario == session.scenario_name
        {
            let finished = run.series.finished_s.unwrap_or(run.series.end_s);
            let completed = run.outcome().is_some_and(|o| o.is_completed());
            let place = if t < finished {
                let paused = run.series.downtime_s.is_some_and(|(a, b)| t >= a && t < b);
                GuestPlace::Moving {
                    from: run.from.clone(),
                    to: run.to.clone(),
                    paused,
                    progress: if finished > 0.0 {
                        (t / finished).clamp(0.0, 1.0)
                    } else {
                        1.0
                    },
                }
            } else if completed {
                GuestPlace::On {
                    host: run.to.clone(),
                    running: true,
                }
            } else {
                GuestPlace::On {
                    host: run.from.clone(),
                    running: true,
                }
            };
            // The playing guest replaces whatever the world says about it (the world is already
            // at the end of the run), keeping a shut-off definition left on the source.
            guests.retain(|g| {
                g.name != run.vm || matches!(g.place, GuestPlace::On { running: false, .. })
            });
            guests.push(GuestMark {
                name: run.vm.clone(),
                place,
            });
        }
        let problems = preflight
            .map(|r| {
                r.checks
                    .iter()
                    .filter(|c| c.status != CheckStatus::Pass)
                    .map(|c| (c.id, c.status, lang.pick(&c.title).to_string()))
                    .collect()
            })
            .unwrap_or_default();
        Picture {
            hosts,
            shared_storage,
            guests,
            problems,
        }
    }

    fn problem(&self, ids: &[CheckId]) -> Option<CheckStatus> {
        self.problems
            .iter()
            .filter(|(id, _, _)| ids.contains(id))
            .map(|(_, s, _)| *s)
            .max_by_key(|s| matches!(s, CheckStatus::Fail))
    }

    /// A sentence for screen readers (and tests).
    pub fn describe(&self, lang: Lang) -> String {
        let mut parts = Vec::new();
        for g in &self.guests {
            parts.push(match &g.place {
                GuestPlace::On {
                    host,
                    running: true,
                } => tr!(
                    lang,
                    "topo-guest-on",
                    vm = g.name.clone(),
                    host = host.clone()
                ),
                GuestPlace::On {
                    host,
                    running: false,
                } => tr!(
                    lang,
                    "topo-guest-off",
                    vm = g.name.clone(),
                    host = host.clone()
                ),
                GuestPlace::Moving { from, to, .. } => tr!(
                    lang,
                    "topo-guest-moving",
                    vm = g.name.clone(),
                    from = from.clone(),
                    to = to.clone()
                ),
            });
        }
        for (_, status, title) in &self.problems {
            parts.push(match status {
                CheckStatus::Fail => tr!(lang, "topo-problem-fail", check = title.clone()),
                _ => tr!(lang, "topo-problem-warn", check = title.clone()),
            });
        }
        format!("{}: {}", tr!(lang, "topo-title"), parts.join("; "))
    }
}

const FAIL: Color32 = Color32::from_rgb(0xd0, 0x30, 0x30);
const WARN: Color32 = Color32::from_rgb(0xd0, 0x90, 0x10);
const OK: Color32 = Color32::from_rgb(0x2e, 0x8b, 0x57);

fn mark_color(s: Option<CheckStatus>, normal: Color32) -> Color32 {
    match s {
        Some(CheckStatus::Fail) => FAIL,
        Some(CheckStatus::Warn) => WARN,
        _ => normal,
    }
}

/// Draw the picture.
pub fn topology_ui(ui: &mut egui::Ui, pic: &Picture, lang: Lang) {
    let width = ui.available_width().max(280.0);
    // A host's box holds its guests one row each: grow it (and the picture) for more than two.
    let rows = pic
        .hosts
        .iter()
        .map(|h| {
            pic.guests
                .iter()
                .filter(|g| matches!(&g.place, GuestPlace::On { host, .. } if host == h))
                .count()
        })
        .max()
        .unwrap_or(0);
    let host_h = (30.0 + rows as f32 * 26.0).max(92.0);
    let (response, painter) = ui.allocate_painter(
        Vec2::new(width, 230.0 + (host_h - 92.0)),
        egui::Sense::hover(),
    );
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, pic.describe(lang)));
    let rect = response.rect;
    let visuals = ui.visuals();
    let fg = visuals.text_color();
    let line = Stroke::new(1.5, visuals.weak_text_color());
    let font = FontId::proportional(12.0);
    let small = FontId::proportional(10.5);
    let n = pic.hosts.len().max(1);
    let slot = width / n as f32;
    // Leave room between hosts for the ssh and migration-port links and their labels.
    let host_w = (slot - 90.0).clamp(90.0, 200.0);
    let host_y = rect.top() + 62.0;
    let host_rect = |i: usize| {
        let cx = rect.left() + slot * (i as f32 + 0.5);
        Rect::from_center_size(
            Pos2::new(cx, host_y + host_h / 2.0),
            Vec2::new(host_w, host_h),
        )
    };
    // Shared storage at the top, a line to every host.
    let storage_rect = Rect::from_center_size(
        Pos2::new(rect.center().x, rect.top() + 20.0),
        Vec2::new(150.0, 28.0),
    );
    let storage_problem = pic.problem(&[CheckId::SharedStorage]);
    match &pic.shared_storage {
        Some(path) => {
            let c = mark_color(storage_problem, visuals.widgets.inactive.bg_fill);
            painter.rect_filled(storage_rect, 6.0, c);
            painter.text(
                storage_rect.center(),
                Align2::CENTER_CENTER,
                format!("NFS {path}"),
                small.clone(),
                fg,
            );
            for i in 0..n {
                let h = host_rect(i);
                painter.line_segment([storage_rect.center_bottom(), h.center_top()], line);
            }
        }
        None => {
            painter.rect_stroke(
                storage_rect,
                6.0,
                Stroke::new(1.5, mark_color(storage_problem, line.color)),
                StrokeKind::Inside,
            );
            painter.text(
                storage_rect.center(),
                Align2::CENTER_CENTER,
                tr!(lang, "topo-local-disks"),
                small.clone(),
                mark_color(storage_problem, fg),
            );
        }
    }
    if storage_problem.is_some() {
        painter.text(
            storage_rect.right_center() + Vec2::new(8.0, 0.0),
            Align2::LEFT_CENTER,
            "×",
            font.clone(),
            mark_color(storage_problem, fg),
        );
    }
    // The bridge: one L2 segment under the hosts, with the client that pings.
    let bridge_y = host_y + host_h + 28.0;
    let bridge_problem = pic.problem(&[CheckId::Bridge, CheckId::SameSubnet]);
    let bridge_color = mark_color(bridge_problem, OK);
    painter.line_segment(
        [
            Pos2::new(rect.left() + 10.0, bridge_y),
            Pos2::new(rect.right() - 10.0, bridge_y),
        ],
        Stroke::new(4.0, bridge_color),
    );
    painter.text(
        Pos2::new(rect.left() + 12.0, bridge_y + 4.0),
        Align2::LEFT_TOP,
        "br0",
        small.clone(),
        bridge_color,
    );
    for i in 0..n {
        let h = host_rect(i);
        painter.line_segment([h.center_bottom(), Pos2::new(h.center().x, bridge_y)], line);
    }
    let client = Pos2::new(rect.center().x, bridge_y + 26.0);
    painter.line_segment(
        [Pos2::new(client.x, bridge_y), client - Vec2::new(0.0, 8.0)],
        line,
    );
    painter.text(
        client,
        Align2::CENTER_CENTER,
        tr!(lang, "topo-client"),
        small.clone(),
        fg,
    );
    // Hosts.
    let host_problem = pic.problem(&[CheckId::Cpu, CheckId::MachineType, CheckId::FreeMemory]);
    for (i, name) in pic.hosts.iter().enumerate() {
        let h = host_rect(i);
        painter.rect_filled(h, 8.0, visuals.faint_bg_color);
        let is_dest = pic
            .guests
            .iter()
            .any(|g| matches!(&g.place, GuestPlace::Moving { to, .. } if to == name));
        let border = if i > 0 {
            mark_color(host_problem, line.color)
        } else {
            line.color
        };
        painter.rect_stroke(
            h,
            8.0,
            Stroke::new(if is_dest { 2.5 } else { 1.5 }, border),
            StrokeKind::Inside,
        );
        painter.text(
            h.center_top() + Vec2::new(0.0, 4.0),
            Align2::CENTER_TOP,
            name,
            font.clone(),
            fg,
        );
    }
    // SSH trust and the migration ports between the first two hosts.
    if n >= 2 {
        let a = host_rect(0).right_center();
        let b = host_rect(1).left_center();
        let ssh = pic.problem(&[CheckId::SshTrust, CheckId::NameResolution]);
        let ports = pic.problem(&[CheckId::MigrationPorts]);
        let y_ssh = a.y - 18.0;
        let ssh_color = mark_color(ssh, line.color);
        painter.add(egui::Shape::dashed_line(
            &[Pos2::new(a.x, y_ssh), Pos2::new(b.x, y_ssh)],
            Stroke::new(1.5, ssh_color),
            5.0,
            4.0,
        ));
        painter.text(
            Pos2::new((a.x + b.x) / 2.0, y_ssh - 2.0),
            Align2::CENTER_BOTTOM,
            if ssh.is_some() { "ssh ×" } else { "ssh" },
            small.clone(),
            ssh_color,
        );
        let y_ports = a.y + 18.0;
        let ports_color = mark_color(ports, line.color);
        painter.line_segment(
            [Pos2::new(a.x, y_ports), Pos2::new(b.x, y_ports)],
            Stroke::new(1.5, ports_color),
        );
        painter.text(
            Pos2::new((a.x + b.x) / 2.0, y_ports + 2.0),
            Align2::CENTER_TOP,
            if ports.is_some() {
                "49152–49215 ×"
            } else {
                "49152–49215"
            },
            small.clone(),
            ports_color,
        );
    }
    // Guests.
    let host_index = |name: &str| pic.hosts.iter().position(|h| h == name);
    let mut per_host = vec![0usize; n];
    let size = Vec2::new((host_w - 16.0).min(110.0), 22.0);
    // The next free slot for a guest in host `i`'s box, one row per guest.
    let mut next_slot = |i: usize| {
        let h = host_rect(i);
        let k = per_host[i];
        per_host[i] += 1;
        let r = Rect::from_min_size(
            Pos2::new(
                h.center().x - size.x / 2.0,
                h.top() + 24.0 + k as f32 * 26.0,
            ),
            size,
        );
        (r.bottom() <= h.bottom()).then_some(r)
    };
    for g in &pic.guests {
        match &g.place {
            GuestPlace::On { host, running } => {
                let Some(r) = host_index(host).and_then(&mut next_slot) else {
                    continue;
                };
                let fill = if *running {
                    OK
                } else {
                    visuals.widgets.inactive.bg_fill
                };
                painter.rect_filled(r, 4.0, fill);
                let label = if *running {
                    g.name.clone()
                } else {
                    format!("{} ({})", g.name, tr!(lang, "topo-off"))
                };
                painter.text(
                    r.center(),
                    Align2::CENTER_CENTER,
                    label,
                    small.clone(),
                    Color32::WHITE,
                );
            }
            GuestPlace::Moving {
                from,
                to,
                paused,
                progress,
            } => {
                let (Some(i), Some(j)) = (host_index(from), host_index(to)) else {
                    continue;
                };
                let Some(src) = next_slot(i) else {
                    continue;
                };
                let b = host_rect(j);
                let fill = if *paused { WARN } else { OK };
                painter.rect_filled(src, 4.0, fill);
                let label = if *paused {
                    format!("{} ⏸", g.name)
                } else {
                    g.name.clone()
                };
                painter.text(
                    src.center(),
                    Align2::CENTER_CENTER,
                    label,
                    small.clone(),
                    Color32::WHITE,
                );
                let dst = Rect::from_min_size(
                    Pos2::new(b.center().x - size.x / 2.0, b.top() + 24.0),
                    size,
                );
                painter.rect_stroke(dst, 4.0, Stroke::new(1.5, fill), StrokeKind::Inside);
                // Pages in flight along the path, moving with the playback.
                let (p0, p1) = (src.center(), dst.center());
                for d in 0..6 {
                    let f = ((*progress * 12.0 + d as f64 / 6.0) % 1.0) as f32;
                    let p = p0 + (p1 - p0) * f
                        - Vec2::new(0.0, 30.0 * (f * std::f32::consts::PI).sin());
                    painter.rect_filled(Rect::from_center_size(p, Vec2::splat(6.0)), 1.0, fill);
                }
            }
        }
    }
}
