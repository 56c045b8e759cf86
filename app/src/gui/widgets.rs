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
    crate::fsutil::write_atomically(path, &bytes)
}
