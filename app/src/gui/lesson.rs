//! The Lesson tab (Sesi 1): Markdown from `assets/lesson/{id,en}.md` with interactive pieces at
//! its markers: the kitchen analogy (drawn and animated), a "show me" button per prerequisite
//! that opens the lab where exactly that prerequisite is broken (and one per operator's topic,
//! opening the scenario that shows it), and the command taken apart.

use super::command::Command;
use super::state::{AppState, Tab};
use crate::tr;
use egui::{Align2, Color32, FontId, Pos2, Rect, Stroke, StrokeKind, Vec2};
use egui_commonmark::{CommonMarkCache, CommonMarkViewer};
use migralab_course::lesson::{self, Block, Prereq, Topic};
use migralab_sim_core::lang::Lang;

/// The lesson's id in the instructor's `[visible] lessons` list.
pub const LESSON_ID: &str = "lesson";

/// Lesson view state that lives only while the app runs.
#[derive(Debug, Default)]
pub struct LessonRuntime {
    md: Option<CommonMarkCache>,
    /// Kitchen animation clock, s (0..[`KITCHEN_CYCLE_S`]).
    pub kitchen_t: f64,
    /// Is the kitchen animation playing?
    pub kitchen_playing: bool,
}

/// The Lesson tab.
pub fn lesson_ui(
    ui: &mut egui::Ui,
    state: &mut AppState,
    rt: &mut LessonRuntime,
    visible: Option<&[String]>,
    cmds: &mut Vec<Command>,
) {
    let lang = state.lang;
    if visible.is_some_and(|v| !v.iter().any(|l| l == LESSON_ID)) {
        ui.label(tr!(lang, "hidden-by-instructor"));
        return;
    }
    let md = rt.md.get_or_insert_with(CommonMarkCache::default);
    egui::ScrollArea::vertical()
        .id_salt("lesson_scroll")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            // Comfortable line length, but never wider than the window (200 % zoom).
            ui.set_max_width(ui.available_width().min(900.0));
            for (i, block) in lesson::blocks(lang).iter().enumerate() {
                match block {
                    Block::Markdown(text) => {
                        ui.push_id(i, |ui| {
                            CommonMarkViewer::new().show(ui, md, text);
                        });
                    }
                    Block::Kitchen => {
                        kitchen_ui(ui, lang, &mut rt.kitchen_t, &mut rt.kitchen_playing)
                    }
                    Block::Prereq(p) => show_me_ui(ui, lang, *p, cmds),
                    Block::Topic(t) => show_topic_ui(ui, lang, *t, cmds),
                    Block::Command => command_ui(ui, lang),
                }
            }
        });
}

fn prereq_name(p: Prereq, lang: Lang) -> String {
    match p {
        Prereq::SharedStorage => tr!(lang, "prereq-shared-storage"),
        Prereq::Network => tr!(lang, "prereq-network"),
        Prereq::SshTrust => tr!(lang, "prereq-ssh"),
        Prereq::Cpu => tr!(lang, "prereq-cpu"),
        Prereq::Versions => tr!(lang, "prereq-versions"),
    }
}

/// "Show me": open the Lab on the scenario where this prerequisite is broken.
fn show_me_ui(ui: &mut egui::Ui, lang: Lang, p: Prereq, cmds: &mut Vec<Command>) {
    let label = tr!(lang, "lesson-show-me", prereq = prereq_name(p, lang));
    if ui
        .button(label)
        .on_hover_text(tr!(lang, "lesson-show-me-hover", scenario = p.scenario()))
        .clicked()
    {
        cmds.push(Command::OpenScenario(p.scenario().to_string()));
        cmds.push(Command::GoTo(Tab::Lab));
    }
    ui.add_space(6.0);
}

fn topic_name(t: Topic, lang: Lang) -> String {
    match t {
        Topic::CacheMode => tr!(lang, "topic-cache-mode"),
        Topic::Encryption => tr!(lang, "topic-encryption"),
        Topic::NatNetwork => tr!(lang, "topic-nat-network"),
        Topic::MigrationNetwork => tr!(lang, "topic-migration-network"),
        Topic::DiskCopying => tr!(lang, "topic-disk-copying"),
    }
}

/// "Show me" for an operator's topic: open the Lab on the scenario that shows it.
fn show_topic_ui(ui: &mut egui::Ui, lang: Lang, t: Topic, cmds: &mut Vec<Command>) {
    let label = tr!(lang, "lesson-show-me", prereq = topic_name(t, lang));
    if ui
        .button(label)
        .on_hover_text(tr!(
            lang,
            "lesson-show-topic-hover",
            scenario = t.scenario()
        ))
        .clicked()
    {
        cmds.push(Command::OpenScenario(t.scenario().to_string()));
        cmds.push(Command::GoTo(Tab::Lab));
    }
    ui.add_space(6.0);
}

/// The command taken apart: hover (or focus) a part to see what it does.
fn command_ui(ui: &mut egui::Ui, lang: Lang) {
    let c = lesson::command();
    ui.label(egui::RichText::new(tr!(lang, "lesson-command-hover")).italics());
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.horizontal_wrapped(|ui| {
            ui.spacing_mut().item_spacing.x = 0.0;
            for part in &c.parts {
                if !part.join.is_empty() {
                    ui.label(egui::RichText::new(&part.join).monospace());
                }
                let mut text = egui::RichText::new(&part.text).monospace().size(16.0);
                if part.myth.is_some() {
                    text = text.color(ui.visuals().warn_fg_color);
                }
                let resp = ui
                    .add(egui::Button::new(text).frame(false))
                    .on_hover_text(lang.pick(&part.explain));
                if let Some(myth) = &part.myth {
                    resp.on_hover_text(format!("⚠ {}", lang.pick(myth)));
                }
            }
        });
    });
    for part in c.parts.iter().filter(|p| p.myth.is_some()) {
        if let Some(myth) = &part.myth {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!("⚠ {}: {}", part.text, lang.pick(myth)),
            );
        }
    }
    ui.collapsing(tr!(lang, "lesson-more-flags"), |ui| {
        egui::Grid::new("extra_flags")
            .num_columns(2)
            .striped(true)
            .show(ui, |ui| {
                for f in &c.extra {
                    ui.label(egui::RichText::new(&f.text).monospace());
                    ui.label(lang.pick(&f.explain));
                    ui.end_row();
                }
            });
    });
    ui.add_space(6.0);
}

/// One cycle of the kitchen animation, s.
pub const KITCHEN_CYCLE_S: f64 = 14.0;
/// Ingredients (memory pages) in the kitchen.
const PAGES: usize = 24;
/// The rounds of carrying: which pages go across in each. Round 1 carries everything; the cook
/// keeps using some, so they must be carried again (fewer each round); the last round happens
/// while the cook pauses.
const ROUNDS: [(f64, f64, &[usize]); 4] = [
    (
        0.0,
        5.0,
        &[
            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
        ],
    ),
    (5.0, 7.5, &[2, 5, 9, 13, 17, 21]),
    (7.5, 9.0, &[5, 13, 21]),
    (9.0, 10.5, &[13, 21]),
];
/// When the cook pauses (stop-and-copy) and resumes in the new kitchen.
const PAUSE_S: (f64, f64) = (9.0, 10.5);

/// What the kitchen shows at time `t` (0..cycle): phase key and, per page, 0 = old kitchen,
/// 1 = new kitchen, in between = being carried; and whether the page is "dirty" (used again
/// after it was carried).
pub fn kitchen_state(t: f64) -> (&'static str, Vec<(f64, bool)>) {
    let mut pages = vec![(0.0, false); PAGES];
    for (p, page) in pages.iter_mut().enumerate() {
        for (k, (start, end, which)) in ROUNDS.iter().enumerate() {
            let Some(slot) = which.iter().position(|&q| q == p) else {
                continue;
            };
            // Pages of a round go one after another.
            let span = (end - start) / which.len() as f64;
            let a = start + span * slot as f64;
            if t >= a {
                *page = (((t - a) / span).clamp(0.0, 1.0), false);
            } else if k > 0 && t >= ROUNDS[k - 1].1 && page.0 >= 1.0 {
                // Carried already, but the cook used it again: the copy over there is stale
                // until this round carries it again.
                page.1 = true;
            }
        }
    }
    let phase = if t < ROUNDS[0].1 {
        "kitchen-phase-copy"
    } else if t < PAUSE_S.0 {
        "kitchen-phase-dirty"
    } else if t < PAUSE_S.1 {
        "kitchen-phase-pause"
    } else {
        "kitchen-phase-resume"
    };
    (phase, pages)
}

fn kitchen_phase_text(key: &str, lang: Lang) -> String {
    match key {
        "kitchen-phase-copy" => tr!(lang, "kitchen-phase-copy"),
        "kitchen-phase-dirty" => tr!(lang, "kitchen-phase-dirty"),
        "kitchen-phase-pause" => tr!(lang, "kitchen-phase-pause"),
        _ => tr!(lang, "kitchen-phase-resume"),
    }
}

/// The kitchen analogy, drawn: the cook keeps cooking while ingredients are carried to the new
/// kitchen; what the cook touches again must be carried again; the last few go while the cook
/// pauses, then the cook carries on in the new kitchen.
fn kitchen_ui(ui: &mut egui::Ui, lang: Lang, t: &mut f64, playing: &mut bool) {
    if *playing {
        *t += f64::from(ui.input(|i| i.stable_dt)).min(0.1);
        if *t >= KITCHEN_CYCLE_S {
            *t = 0.0;
        }
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(33));
    }
    let (phase, pages) = kitchen_state(*t);
    ui.horizontal(|ui| {
        let label = if *playing {
            tr!(lang, "kitchen-pause")
        } else {
            tr!(lang, "kitchen-play")
        };
        if ui.button(label).clicked() {
            *playing = !*playing;
        }
        if ui.button(tr!(lang, "kitchen-restart")).clicked() {
            *t = 0.0;
        }
        ui.add(
            egui::Slider::new(t, 0.0..=KITCHEN_CYCLE_S)
                .show_value(false)
                .text(tr!(lang, "kitchen-time")),
        );
    });
    let width = ui.available_width().min(860.0);
    let (resp, painter) = ui.allocate_painter(Vec2::new(width, 190.0), egui::Sense::hover());
    let phase_text = kitchen_phase_text(phase, lang);
    resp.widget_info(|| {
        egui::WidgetInfo::labeled(
            egui::Role::Image,
            true,
            format!("{}: {phase_text}", tr!(lang, "kitchen-title")),
        )
    });
    let r = resp.rect;
    let v = ui.visuals();
    let fg = v.text_color();
    let old = Rect::from_min_size(
        r.min + Vec2::new(10.0, 30.0),
        Vec2::new(width * 0.36, 130.0),
    );
    let new = Rect::from_min_size(
        Pos2::new(r.right() - 10.0 - width * 0.36, r.top() + 30.0),
        old.size(),
    );
    for (k, name) in [
        (old, tr!(lang, "kitchen-old")),
        (new, tr!(lang, "kitchen-new")),
    ] {
        painter.rect_filled(k, 10.0, v.faint_bg_color);
        painter.rect_stroke(
            k,
            10.0,
            Stroke::new(1.5, v.weak_text_color()),
            StrokeKind::Inside,
        );
        painter.text(
            k.center_top() - Vec2::new(0.0, 4.0),
            Align2::CENTER_BOTTOM,
            name,
            FontId::proportional(13.0),
            fg,
        );
    }
    // Shelves: 4 rows × 6 ingredients at the back of each kitchen.
    let slot = |k: Rect, i: usize| {
        let (row, col) = (i / 6, i % 6);
        k.left_top() + Vec2::new(14.0 + col as f32 * 18.0, 14.0 + row as f32 * 18.0)
    };
    let colors = [
        Color32::from_rgb(0xe4, 0x57, 0x2e),
        Color32::from_rgb(0x76, 0xb0, 0x41),
        Color32::from_rgb(0xf3, 0xa7, 0x12),
        Color32::from_rgb(0x66, 0x9b, 0xbc),
    ];
    for (i, &(f, dirty)) in pages.iter().enumerate() {
        let a = slot(old, i);
        let b = slot(new, i);
        let lift = (f as f32 * std::f32::consts::PI).sin() * 40.0;
        let p = a + (b - a) * f as f32 - Vec2::new(0.0, lift);
        let c = colors[i % colors.len()];
        let rect = Rect::from_min_size(p, Vec2::splat(12.0));
        painter.rect_filled(rect, 2.0, c);
        if dirty {
            painter.rect_stroke(
                rect.expand(2.0),
                2.0,
                Stroke::new(2.0, Color32::RED),
                StrokeKind::Outside,
            );
        }
        if f > 0.0 && f < 1.0 {
            // A copy stays behind until it arrives: the source keeps the page while it travels.
            painter.rect_stroke(
                Rect::from_min_size(a, Vec2::splat(12.0)),
                2.0,
                Stroke::new(1.0, c),
                StrokeKind::Inside,
            );
        }
    }
    // The cook: cooking in the old kitchen, paused during the last carry, then in the new one.
    let in_new = *t >= PAUSE_S.1;
    let paused = *t >= PAUSE_S.0 && *t < PAUSE_S.1;
    let kitchen = if in_new { new } else { old };
    let cook = Pos2::new(kitchen.right() - 40.0, kitchen.bottom() - 40.0);
    let cook_color = if paused {
        Color32::GRAY
    } else {
        Color32::from_rgb(0x2e, 0x8b, 0x57)
    };
    painter.circle_filled(cook - Vec2::new(0.0, 22.0), 9.0, cook_color);
    painter.rect_filled(
        Rect::from_center_size(cook, Vec2::new(22.0, 26.0)),
        5.0,
        cook_color,
    );
    if paused {
        painter.text(
            cook - Vec2::new(0.0, 42.0),
            Align2::CENTER_BOTTOM,
            "⏸",
            FontId::proportional(16.0),
            fg,
        );
    } else {
        // The pan moves while the cook cooks.
        let wobble = ((*t * 6.0).sin() * 4.0) as f32;
        painter.line_segment(
            [
                cook + Vec2::new(12.0, -4.0),
                cook + Vec2::new(28.0, -6.0 + wobble),
            ],
            Stroke::new(3.0, fg),
        );
    }
    painter.text(
        Pos2::new(r.center().x, r.bottom() - 10.0),
        Align2::CENTER_BOTTOM,
        &phase_text,
        FontId::proportional(13.0),
        fg,
    );
    ui.label(egui::RichText::new(tr!(lang, "kitchen-legend")).small());
    ui.add_space(6.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kitchen_carries_everything_then_less_then_pauses() {
        let (phase, pages) = kitchen_state(0.0);
        assert_eq!(phase, "kitchen-phase-copy");
        assert!(pages.iter().all(|&(f, _)| f == 0.0));
        let (_, pages) = kitchen_state(4.99);
        assert!(pages.iter().filter(|&&(f, _)| f >= 1.0).count() >= 20);
        let (phase, pages) = kitchen_state(5.0);
        assert_eq!(phase, "kitchen-phase-dirty");
        assert!(
            pages.iter().any(|&(_, dirty)| dirty),
            "some pages are used again"
        );
        let (phase, _) = kitchen_state(9.5);
        assert_eq!(phase, "kitchen-phase-pause");
        let (phase, pages) = kitchen_state(11.0);
        assert_eq!(phase, "kitchen-phase-resume");
        assert!(
            pages.iter().all(|&(f, dirty)| f >= 1.0 && !dirty),
            "everything arrived"
        );
    }
}
