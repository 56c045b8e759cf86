//! The shell's language and its hint lines: one line starting with `petunjuk:` (or `hint:`) after
//! an error a student is likely stuck on, pointing at the fix.

use migralab_sim_core::lang::Lang;
use migralab_sim_core::text::Text;

/// The prefix of a hint line in `lang`.
pub fn hint_prefix(lang: Lang) -> &'static str {
    Text::of("petunjuk: ", "hint: ").in_lang(lang)
}

/// The prefix of a note line (something the lab does differently from a real host) in `lang`.
pub fn note_prefix(lang: Lang) -> &'static str {
    Text::of("catatan: ", "note: ").in_lang(lang)
}

/// Levenshtein distance, capped: anything above `cap` is reported as `cap + 1`.
pub(super) fn distance(a: &str, b: &str, cap: usize) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > cap || a.len() > 64 || b.len() > 64 {
        return cap + 1;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()].min(cap + 1)
}

/// The closest of `candidates` to `word`, if it is a plausible typo: one edit for words of up
/// to four letters, two for longer ones.
pub(super) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = distance(word, c, 2);
        let allowed = if word.chars().count() <= 4 { 1 } else { 2 };
        if d <= allowed && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_are_found() {
        assert_eq!(distance("migrat", "migrate", 2), 1);
        assert_eq!(distance("vrish", "virsh", 2), 2);
        assert_eq!(closest("migrat", ["list", "migrate"]), Some("migrate"));
        assert_eq!(closest("xyz", ["list", "migrate"]), None);
        assert_eq!(closest("foo", ["fg"]), None);
        assert_eq!(closest("lst", ["ls", "list"]), Some("ls"));
    }
}
