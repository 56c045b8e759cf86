//! Exporting a finished run: figures (SVG, PNG), the self-contained HTML lab report, and the trace
//! as CSV or JSON, plus the `migralab report` command that writes them.
//!
//! Invariants:
//! - **No egui here.** Figures are drawn with plotters from [`crate::series::RunSeries`], the same
//!   series the GUI plots, so an exported figure shows what the screen showed.
//! - **Pure renderers, one writer.** [`figures`], [`html`] and [`csv_json`] return strings or bytes;
//!   only [`run`] touches files (atomically, through `fsutil`).

mod command;
pub mod csv_json;
pub mod figures;
pub mod html;

pub use command::{REPORT_LONG_ABOUT, ReportArgs, ReportConfig, run};

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
