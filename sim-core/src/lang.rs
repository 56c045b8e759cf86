//! The two languages of migralab's texts: Bahasa Indonesia (the default) and English.

use crate::text::Text;

/// A language of the app's texts (`"id"` / `"en"` in files).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Bahasa Indonesia (the default).
    #[default]
    Id,
    /// English.
    En,
}

impl Lang {
    /// The text in this language (English when the Indonesian text is missing).
    pub fn pick(self, t: &Text) -> &str {
        t.get(self)
    }
}
