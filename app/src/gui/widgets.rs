//! Small pieces shared by the panels.

use anyhow::Context as _;
use std::path::Path;

/// Save an egui screenshot as PNG (written beside the target, then renamed).
pub fn save_png(img: &egui::ColorImage, path: &Path) -> anyhow::Result<()> {
    let [w, h] = img.size;
    let rgba: Vec<u8> = img.pixels.iter().flat_map(|c| c.to_array()).collect();
    let buf = image::RgbaImage::from_raw(w as u32, h as u32, rgba)
        .context("the screenshot has an inconsistent size")?;
    let mut bytes = Vec::new();
    buf.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )
    .context("cannot encode the screenshot as PNG")?;
    crate::storage::write_atomically(path, &bytes)
}

/// A label for teaching text where `code` spans (between backticks, as in the asset files) are
/// shown in the monospace font, wrapped to the available width.
pub fn text_with_code(ui: &mut egui::Ui, text: &str) -> egui::Response {
    use egui::text::{LayoutJob, TextFormat};
    let body = egui::TextStyle::Body.resolve(ui.style());
    let mono = egui::TextStyle::Monospace.resolve(ui.style());
    let color = ui.visuals().text_color();
    let code_bg = ui.visuals().code_bg_color;
    let mut job = LayoutJob::default();
    for (i, part) in text.split('`').enumerate() {
        let format = if i % 2 == 1 {
            TextFormat {
                font_id: mono.clone(),
                color,
                background: code_bg,
                ..Default::default()
            }
        } else {
            TextFormat {
                font_id: body.clone(),
                color,
                ..Default::default()
            }
        };
        job.append(part, 0.0, format);
    }
    job.wrap.max_width = ui.available_width();
    ui.label(job)
}
