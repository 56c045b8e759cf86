//! [`Text`]: the one type every bilingual text outside the GUI's Fluent catalogs is carried in
//! (scenario titles, preflight findings, the shell's hints, the course material), in the two
//! languages of [`Lang`].

use crate::lang::Lang;
use serde::{Deserialize, Serialize};

/// A text in both languages; in files a table `{ id = "...", en = "..." }`. Carried texts own
/// their wording (`Text`, i.e. `Text<String>`); a fixed phrase in code borrows it
/// (`Text::of("Ya", "Yes").in_lang(lang)`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text<S = String> {
    /// Bahasa Indonesia (the default language).
    #[serde(default)]
    pub id: S,
    /// English.
    #[serde(default)]
    pub en: S,
}

impl<'a> Text<&'a str> {
    /// A fixed phrase in both languages.
    pub const fn of(id: &'a str, en: &'a str) -> Text<&'a str> {
        Text { id, en }
    }

    /// The phrase in `lang`, borrowed for as long as its wording lives.
    pub fn in_lang(self, lang: Lang) -> &'a str {
        match lang {
            Lang::Id => self.id,
            Lang::En => self.en,
        }
    }
}

impl Text {
    /// A text from its Indonesian and English wording.
    pub fn new(id: impl Into<String>, en: impl Into<String>) -> Text {
        Text {
            id: id.into(),
            en: en.into(),
        }
    }

    /// The same wording in both languages (a command, a name, a message that is not translated).
    pub fn same(both: impl Into<String>) -> Text {
        let en = both.into();
        Text { id: en.clone(), en }
    }

    /// The text in `lang` (English when the Indonesian text is missing).
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Id if !self.id.is_empty() => &self.id,
            _ => &self.en,
        }
    }

    /// Both languages are present and not blank.
    pub fn is_complete(&self) -> bool {
        !self.id.trim().is_empty() && !self.en.trim().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_stands_in_for_a_missing_indonesian_text() {
        let t = Text::new("", "hello");
        assert_eq!(t.get(Lang::Id), "hello");
        assert_eq!(Lang::En.pick(&Text::new("halo", "hello")), "hello");
        assert_eq!(Lang::Id.pick(&Text::new("halo", "hello")), "halo");
        assert!(!t.is_complete());
        assert!(Text::same("virsh").is_complete());
    }
}
