//! Exporting a finished run: figures (SVG, PNG), the self-contained HTML lab report, the trace as
//! CSV or JSON, and the text the terminal shows (run summary, preflight table). `migralab report`
//! ([`crate::cli::report`]) and the GUI's export buttons write them.
//!
//! Invariants:
//! - **No egui here.** Figures are drawn with plotters from [`crate::sessions::series::RunSeries`], the same
//!   series the GUI plots, so an exported figure shows what the screen showed.
//! - **Pure renderers.** Everything here returns strings or bytes; the callers write files
//!   (atomically, through [`crate::storage`]).

pub mod csv_json;
pub mod figures;
pub mod html;
pub mod preflight_text;
pub mod text;

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The embedded font could not be registered with plotters.
    #[error("cannot load the font used for figures")]
    Font,
    /// plotters could not draw a figure.
    #[error("cannot draw the {figure} figure: {message}")]
    Draw {
        /// File stem of the figure (`memory`, `rates`, ...).
        figure: &'static str,
        /// plotters' error.
        message: String,
    },
    /// The drawn bitmap could not be encoded as PNG.
    #[error("cannot encode the {figure} figure as PNG: {source}")]
    Png {
        /// File stem of the figure.
        figure: &'static str,
        /// The encoder's error.
        source: image::ImageError,
    },
    /// A PNG size with a zero or huge side.
    #[error("a figure of {width}×{height} pixels cannot be drawn (each side must be 100 to 10000)")]
    Size {
        /// Requested width.
        width: u32,
        /// Requested height.
        height: u32,
    },
    /// The trace could not be serialised.
    #[error("cannot serialise the trace as JSON: {0}")]
    Json(#[from] serde_json::Error),
}
