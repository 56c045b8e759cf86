//! UI text in both languages through Fluent: `tr!(lang, "message-id")` or
//! `tr!(lang, "message-id", name = value)`. The catalogs (`app/i18n/{id,en}/migralab_app.ftl`) are
//! embedded in the binary; `i18n-embed-fl` checks at compile time that every id used exists in the
//! fallback (Indonesian) catalog, and a test checks that both catalogs have the same ids.
//!
//! Each language has its own loader, chosen per call, so that switching language is just a
//! different argument on the next frame and parallel tests never share a global locale.

use i18n_embed::fluent::{FluentLanguageLoader, fluent_language_loader};
use i18n_embed::{LanguageLoader as _, unic_langid::LanguageIdentifier};
use migralab_sim_core::lang::Lang;
use rust_embed::RustEmbed;
use std::sync::LazyLock;

#[derive(RustEmbed)]
#[folder = "i18n"]
struct Catalogs;

/// One loader per language.
struct Loaders {
    id: FluentLanguageLoader,
    en: FluentLanguageLoader,
}

static LOADERS: LazyLock<Loaders> = LazyLock::new(|| Loaders {
    id: load("id"),
    en: load("en"),
});

fn load(tag: &str) -> FluentLanguageLoader {
    let loader = fluent_language_loader!();
    // The tags are ours and valid; a failure here would be a build defect caught by the tests,
    // and the loader then falls back to showing message ids rather than crashing the app.
    if let Ok(lang) = tag.parse::<LanguageIdentifier>()
        && let Err(e) = loader.load_languages(&Catalogs, &[lang])
    {
        tracing::error!("cannot load the {tag} UI catalog: {e}");
    }
    // Unicode isolation marks around arguments render as boxes in egui's fonts.
    loader.set_use_isolating(false);
    loader
}

/// The loader of `lang`'s catalog.
pub fn loader(lang: Lang) -> &'static FluentLanguageLoader {
    match lang {
        Lang::Id => &LOADERS.id,
        Lang::En => &LOADERS.en,
    }
}

/// The raw text of both catalogs, for the test that compares their ids.
pub fn catalog_source(lang: Lang) -> Option<String> {
    let file = match lang {
        Lang::Id => "id/migralab_app.ftl",
        Lang::En => "en/migralab_app.ftl",
    };
    Catalogs::get(file).map(|f| String::from_utf8_lossy(&f.data).into_owned())
}

/// A UI string in `lang`: `tr!(lang, "id")`, or with arguments `tr!(lang, "id", n = 3)`.
#[macro_export]
macro_rules! tr {
    ($lang:expr, $id:literal) => {
        i18n_embed_fl::fl!($crate::i18n::loader($lang), $id)
    };
    ($lang:expr, $id:literal, $($args:tt)*) => {
        i18n_embed_fl::fl!($crate::i18n::loader($lang), $id, $($args)*)
    };
}
