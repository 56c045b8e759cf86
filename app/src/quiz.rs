//! A question bank as the app reads it: the shipped bank (embedded, so the app works from any
//! directory) or a folder of TOML files, and the simulator run behind a "predict the outcome"
//! question. The questions, grading and shuffling live in `migralab_course::quiz`; the terminal
//! quiz is [`crate::cli::quiz`], the Quiz tab [`crate::gui::quiz_tab`].

use crate::scenarios;
use anyhow::{Context as _, bail};
use migralab_course::quiz::{Bank, Body, Kind, Lang, Located, Question, QuizError};
use migralab_real::fsutil::{Limit, read_text_bounded};
use migralab_sim_core::text::Text;
use migralab_sim_core::{RunOutcome, Scenario, Simulator};
use std::path::{Path, PathBuf};

/// A file of the shipped bank, embedded at compile time.
#[derive(Debug, Clone, Copy)]
pub struct ShippedFile {
    /// File name in `assets/quizzes/`.
    pub name: &'static str,
    /// The TOML text.
    pub text: &'static str,
}

macro_rules! bank_file {
    ($name:literal) => {
        ShippedFile {
            name: $name,
            text: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../assets/quizzes/",
                $name
            )),
        }
    };
}

/// Every file of the shipped bank (`assets/quizzes/*.toml`), in teaching order.
pub const SHIPPED_BANK: &[ShippedFile] = &[
    bank_file!("concepts.toml"),
    bank_file!("prerequisites.toml"),
    bank_file!("virsh-migrate.toml"),
    bank_file!("errors.toml"),
    bank_file!("operator.toml"),
];

/// A seed for a student who did not ask for one: different each run, printed so the same quiz
/// can be taken again with `--seed`. (The app may read the clock; sim-core may not.)
pub fn fresh_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_secs() % 100_000)
}

/// The files of a bank, read but not yet parsed.
#[derive(Debug, Clone)]
pub struct BankSource {
    /// Shown in messages: the folder, or `assets/quizzes (shipped)`.
    pub label: String,
    /// The folder, for a bank on disk (scenario files may sit beside the questions).
    pub dir: Option<PathBuf>,
    /// (origin for errors, text), sorted by file name.
    pub files: Vec<(String, String)>,
}

impl BankSource {
    /// The embedded shipped bank.
    pub fn shipped() -> BankSource {
        BankSource {
            label: "assets/quizzes (shipped)".into(),
            dir: None,
            files: SHIPPED_BANK
                .iter()
                .map(|f| (format!("assets/quizzes/{}", f.name), f.text.to_string()))
                .collect(),
        }
    }

    /// Every `*.toml` directly in `dir`, sorted by name (other files, like EXAMPLE.md, are
    /// ignored).
    pub fn read_dir(dir: &Path) -> anyhow::Result<BankSource> {
        let entries = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read the question bank folder {}", dir.display()))?;
        let mut paths = Vec::new();
        for entry in entries {
            let path = entry
                .with_context(|| format!("cannot list {}", dir.display()))?
                .path();
            if path.is_file()
                && path
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
            {
                paths.push(path);
            }
        }
        paths.sort();
        if paths.is_empty() {
            bail!(
                "{}: no .toml files (a bank is a folder of TOML files with [[question]] tables)",
                dir.display()
            );
        }
        let mut files = Vec::new();
        let mut total = 0u64;
        for p in &paths {
            // Each file within the bank's limit, and all of them together: a folder of many
            // files must not add up to more.
            let text = read_text_bounded(p, Limit::QUESTION_BANK)?;
            total += text.len() as u64;
            if total > Limit::QUESTION_BANK.bytes {
                bail!(
                    "cannot read the question bank {}: its files together are larger than {} MiB, \
                     the limit for {}",
                    dir.display(),
                    Limit::QUESTION_BANK.bytes >> 20,
                    Limit::QUESTION_BANK.what
                );
            }
            files.push((p.display().to_string(), text));
        }
        Ok(BankSource {
            label: dir.display().to_string(),
            dir: Some(dir.to_path_buf()),
            files,
        })
    }

    /// Parse and validate.
    pub fn bank(&self) -> Result<Bank, Vec<QuizError>> {
        let located: Vec<Located<'_>> = self
            .files
            .iter()
            .map(|(origin, text)| Located { text, origin })
            .collect();
        Bank::load(&located)
    }

    /// The scenario a predict question names: a shipped one, or a file beside the bank.
    fn scenario(&self, name: &str) -> anyhow::Result<scenarios::Source> {
        if let Some(s) = scenarios::shipped(name) {
            return Ok(scenarios::Source {
                origin: format!("scenarios/{}.toml", s.name),
                text: s.text.to_string(),
            });
        }
        if let Some(dir) = &self.dir {
            for candidate in [dir.join(name), dir.join(format!("{name}.toml"))] {
                if candidate.is_file() {
                    return scenarios::resolve(&candidate);
                }
            }
        }
        scenarios::resolve(Path::new(name))
    }

    /// Load a predict question's scenario with its overrides applied.
    fn predict_scenario(&self, q: &Question) -> anyhow::Result<Option<Scenario>> {
        let Body::Predict {
            scenario,
            overrides,
            ..
        } = &q.body
        else {
            return Ok(None);
        };
        let source = self.scenario(scenario)?;
        let loaded = Scenario::load(
            migralab_sim_core::Located {
                text: &source.text,
                origin: &source.origin,
            },
            overrides,
        )?;
        Ok(Some(loaded))
    }

    /// Everything `--check` reports: the bank's errors, then the predict questions whose
    /// scenario cannot be loaded.
    pub fn check(&self) -> Result<Bank, Vec<String>> {
        let bank = self
            .bank()
            .map_err(|errors| errors.iter().map(ToString::to_string).collect::<Vec<_>>())?;
        let mut errors = Vec::new();
        for q in bank.questions() {
            if let Body::Predict { scenario_at, .. } = &q.body
                && let Err(e) = self.predict_scenario(q)
            {
                errors.push(format!("{scenario_at}: question `{}`: {e:#}", q.id));
            }
        }
        if errors.is_empty() {
            Ok(bank)
        } else {
            Err(errors)
        }
    }
}

/// Run a predict question's scenario in the simulator (the CLI and the Quiz tab both use it).
pub fn simulate(source: &BankSource, q: &Question) -> anyhow::Result<RunOutcome> {
    let scenario = source
        .predict_scenario(q)?
        .context("not a predict question")?;
    let trace = Simulator::run(scenario);
    Ok(RunOutcome::of(&trace))
}

/// The name of a kind of question, as the student reads it.
pub fn kind_label(lang: Lang, kind: Kind) -> &'static str {
    match kind {
        Kind::Single => Text::of("pilihan ganda", "single choice").in_lang(lang),
        Kind::Multi => Text::of("pilih semua yang benar", "choose all that apply").in_lang(lang),
        Kind::Order => Text::of("urutkan", "put in order").in_lang(lang),
        Kind::Command => Text::of("tulis perintah", "write the command").in_lang(lang),
        Kind::Diagnose => Text::of("diagnosis error", "diagnose the error").in_lang(lang),
        Kind::Numeric => Text::of("hitung", "estimate").in_lang(lang),
        Kind::Predict => Text::of("tebak hasilnya", "predict the outcome").in_lang(lang),
    }
}

/// The bank file a question comes from, by name (`concepts` for `assets/quizzes/concepts.toml`).
pub fn bank_file_name(q: &Question) -> &str {
    Path::new(&q.at.origin)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
}

/// May students see this question? `visible.quizzes` lists objective ids, bank file names or
/// question ids; no list shows everything.
pub fn offered(q: &Question, visible: &crate::settings::Visible) -> bool {
    visible.quizzes.as_ref().is_none_or(|list| {
        list.iter().any(|v| {
            v == q.objective.as_str() || *v == q.id || (!v.is_empty() && v == bank_file_name(q))
        })
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use migralab_course::quiz::Objective;

    #[test]
    fn every_shipped_file_is_embedded() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/quizzes");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".toml"))
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = SHIPPED_BANK.iter().map(|f| f.name.to_string()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
    }

    #[test]
    fn shipped_bank_passes_the_check_with_its_scenarios() {
        let bank = BankSource::shipped()
            .check()
            .unwrap_or_else(|e| panic!("{}", e.join("\n")));
        let stats = bank.stats();
        assert!(stats.questions >= 40);
        assert_eq!(stats.languages, vec!["id", "en"]);
        for o in Objective::ALL {
            assert!(stats.objectives.get(o.as_str()) >= 3, "{}", o.as_str());
        }
    }

    /// The bank's expected answer of every predict question is what the simulator really does.
    #[test]
    fn predict_answers_agree_with_the_simulator() {
        let source = BankSource::shipped();
        let bank = source.bank().unwrap();
        for q in bank.questions() {
            let Body::Predict { options, .. } = &q.body else {
                continue;
            };
            let actual = simulate(&source, q).unwrap();
            let matching: Vec<usize> = options
                .iter()
                .enumerate()
                .filter(|(_, o)| o.expect.matches(&actual))
                .map(|(i, _)| i)
                .collect();
            let expected: Vec<usize> = options
                .iter()
                .enumerate()
                .filter(|(_, o)| o.choice.correct)
                .map(|(i, _)| i)
                .collect();
            assert_eq!(
                matching, expected,
                "{}: the simulator gave {actual:?}",
                q.id
            );
        }
    }
}
