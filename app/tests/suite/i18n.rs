//! Both Fluent catalogs have the same messages, and every message used in the code exists
//! (the Indonesian one is checked at compile time by `fl!`; this checks English too).

use fluent_syntax::ast::Entry;
use migralab_sim_core::lang::Lang;
use std::collections::BTreeSet;

fn ids(lang: Lang) -> BTreeSet<String> {
    let src = migralab_app::i18n::catalog_source(lang).expect("the catalog is embedded");
    let res = fluent_syntax::parser::parse(src)
        .unwrap_or_else(|(_, errs)| panic!("{lang:?} catalog does not parse: {errs:?}"));
    res.body
        .iter()
        .filter_map(|e| match e {
            Entry::Message(m) => Some(m.id.name.to_string()),
            _ => None,
        })
        .collect()
}

#[test]
fn both_catalogs_have_the_same_messages() {
    let id = ids(Lang::Id);
    let en = ids(Lang::En);
    let only_id: Vec<_> = id.difference(&en).collect();
    let only_en: Vec<_> = en.difference(&id).collect();
    assert!(only_id.is_empty(), "missing in English: {only_id:?}");
    assert!(only_en.is_empty(), "missing in Indonesian: {only_en:?}");
    assert!(id.len() > 50);
}

#[test]
fn every_message_used_in_the_code_exists_and_differs_per_language() {
    let en = ids(Lang::En);
    let src_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut used = BTreeSet::new();
    let mut stack = vec![src_dir];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for (i, _) in text.match_indices("tr!(") {
                    let rest = &text[i..];
                    if let Some(q) = rest.find('"') {
                        let after = &rest[q + 1..];
                        if let Some(end) = after.find('"') {
                            let key = &after[..end];
                            if key
                                .chars()
                                .all(|c| c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit())
                            {
                                used.insert(key.to_string());
                            }
                        }
                    }
                }
            }
        }
    }
    used.remove("id"); // the macro's own doc example
    used.remove("message-id");
    let missing: Vec<_> = used.iter().filter(|k| !en.contains(*k)).collect();
    assert!(
        missing.is_empty(),
        "used but not in the English catalog: {missing:?}"
    );
    // A message that reads the same in both languages is probably untranslated (names excepted).
    let same: Vec<_> = used
        .iter()
        .filter(|k| {
            let id = migralab_app::i18n::loader(Lang::Id).get(k);
            let en = migralab_app::i18n::loader(Lang::En).get(k);
            // Technical words that Indonesian keeps as they are.
            id == en
                && !matches!(
                    k.as_str(),
                    "tab-lab"
                        | "form-vm"
                        | "runs-label"
                        | "legend-downtime"
                        | "export-data"
                        | "phase-postcopy"
                        | "prereq-shared-storage"
                        | "exp-real-layout-shared"
                        | "instr-pin"
                        | "quiz-seed"
                        | "term-ctrl-c"
                )
        })
        .collect();
    assert!(same.is_empty(), "the same text in both languages: {same:?}");
}
