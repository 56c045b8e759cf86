//! The text filters a pipe may end in: `grep`, `head`, `tail`, `wc`, `sort`, `uniq`.
//!
//! `grep` understands the part of POSIX regular expressions a lab needs — literals, `.`, `*`,
//! `^`, `$`, bracket classes and backslash escapes; with `-E` also `+`, `?` and top-level `|` —
//! and matches by simulating the automaton, so no pattern takes more than
//! O(line length × pattern length) per line.

/// One element of a compiled pattern.
#[derive(Debug, Clone)]
enum Atom {
    Any,
    Char(char),
    Class { negate: bool, items: Vec<ClassItem> },
}

#[derive(Debug, Clone)]
enum ClassItem {
    One(char),
    Range(char, char),
    /// `[:digit:]` and friends.
    Named(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Rep {
    One,
    /// `*`
    Star,
    /// `?`
    Opt,
}

/// A compiled alternative: `^`? atoms `$`?.
#[derive(Debug, Clone)]
struct Seq {
    anchored_start: bool,
    anchored_end: bool,
    items: Vec<(Atom, Rep)>,
}

/// A compiled `grep` pattern.
#[derive(Debug, Clone)]
pub(super) struct Pattern {
    alts: Vec<Seq>,
    ignore_case: bool,
}

impl Pattern {
    /// Compile `src` as a basic (`extended = false`) or extended regular expression; `fixed`
    /// takes it literally (`grep -F`).
    pub(super) fn new(src: &str, extended: bool, fixed: bool, ignore_case: bool) -> Pattern {
        let src = if ignore_case {
            src.to_lowercase()
        } else {
            src.to_string()
        };
        let alts = if fixed {
            src.split('\n')
                .map(|s| Seq {
                    anchored_start: false,
                    anchored_end: false,
                    items: s.chars().map(|c| (Atom::Char(c), Rep::One)).collect(),
                })
                .collect()
        } else {
            split_alternatives(&src, extended)
                .into_iter()
                .map(|a| compile_seq(&a, extended))
                .collect()
        };
        Pattern { alts, ignore_case }
    }

    /// Does `line` contain a match?
    pub(super) fn is_match(&self, line: &str) -> bool {
        let owned;
        let line = if self.ignore_case {
            owned = line.to_lowercase();
            owned.as_str()
        } else {
            line
        };
        let chars: Vec<char> = line.chars().collect();
        self.alts.iter().any(|s| seq_matches(s, &chars))
    }
}

/// Split on `|` (ERE) or `\|` (GNU BRE) outside brackets.
fn split_alternatives(src: &str, extended: bool) -> Vec<String> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = vec![String::new()];
    let mut i = 0;
    let mut in_class = false;
    while i < chars.len() {
        let c = chars[i];
        if in_class {
            if c == ']' {
                in_class = false;
            }
            if let Some(last) = out.last_mut() {
                last.push(c);
            }
            i += 1;
            continue;
        }
        if c == '[' {
            in_class = true;
            if let Some(last) = out.last_mut() {
                last.push(c);
                // A `]` right after `[` or `[^` is literal.
                if chars.get(i + 1) == Some(&'^') {
                    last.push('^');
                    i += 1;
                }
                if chars.get(i + 1) == Some(&']') {
                    last.push(']');
                    i += 1;
                }
            }
            i += 1;
            continue;
        }
        if extended && c == '|' {
            out.push(String::new());
            i += 1;
            continue;
        }
        if !extended && c == '\\' && chars.get(i + 1) == Some(&'|') {
            out.push(String::new());
            i += 2;
            continue;
        }
        if c == '\\' {
            if let Some(last) = out.last_mut() {
                last.push(c);
                if let Some(&n) = chars.get(i + 1) {
                    last.push(n);
                }
            }
            i += 2;
            continue;
        }
        if let Some(last) = out.last_mut() {
            last.push(c);
        }
        i += 1;
    }
    out
}

fn compile_seq(src: &str, extended: bool) -> Seq {
    let chars: Vec<char> = src.chars().collect();
    let mut items: Vec<(Atom, Rep)> = Vec::new();
    let mut anchored_start = false;
    let mut anchored_end = false;
    let mut i = 0;
    if chars.first() == Some(&'^') {
        anchored_start = true;
        i = 1;
    }
    let mut end = chars.len();
    if end > i && chars[end - 1] == '$' && !(end >= 2 && chars[end - 2] == '\\') {
        anchored_end = true;
        end -= 1;
    }
    while i < end {
        let c = chars[i];
        let atom = match c {
            '.' => {
                i += 1;
                Atom::Any
            }
            '\\' => {
                let n = chars.get(i + 1).copied();
                i += 2;
                match n {
                    // GNU BRE `\+` and `\?` are repetitions.
                    Some('+') if !extended => {
                        add_rep(&mut items, '+');
                        continue;
                    }
                    Some('?') if !extended => {
                        add_rep(&mut items, '?');
                        continue;
                    }
                    Some('t') => Atom::Char('\t'),
                    Some(x) => Atom::Char(x),
                    None => Atom::Char('\\'),
                }
            }
            '[' => match parse_class(&chars[i..end]) {
                Some((atom, len)) => {
                    i += len;
                    atom
                }
                None => {
                    i += 1;
                    Atom::Char('[')
                }
            },
            '*' if !items.is_empty() => {
                add_rep(&mut items, '*');
                i += 1;
                continue;
            }
            '+' | '?' if extended && !items.is_empty() => {
                add_rep(&mut items, c);
                i += 1;
                continue;
            }
            '(' | ')' if extended => {
                // Groups are not supported: they only group here.
                i += 1;
                continue;
            }
            c => {
                i += 1;
                Atom::Char(c)
            }
        };
        items.push((atom, Rep::One));
    }
    Seq {
        anchored_start,
        anchored_end,
        items,
    }
}

/// Apply a repetition to the last item: `*` and `?` change it, `+` adds a starred copy.
fn add_rep(items: &mut Vec<(Atom, Rep)>, rep: char) {
    let Some((atom, current)) = items.last().cloned() else {
        return;
    };
    match (rep, current) {
        ('*', _) => {
            if let Some(last) = items.last_mut() {
                last.1 = Rep::Star;
            }
        }
        ('?', Rep::One) => {
            if let Some(last) = items.last_mut() {
                last.1 = Rep::Opt;
            }
        }
        ('+', Rep::One) => items.push((atom, Rep::Star)),
        _ => {}
    }
}

fn parse_class(p: &[char]) -> Option<(Atom, usize)> {
    let mut i = 1;
    let negate = p.get(1) == Some(&'^');
    if negate {
        i += 1;
    }
    let start = i;
    let mut items = Vec::new();
    while i < p.len() {
        let c = p[i];
        if c == ']' && i > start {
            return Some((Atom::Class { negate, items }, i + 1));
        }
        if c == '[' && p.get(i + 1) == Some(&':') {
            let rest: String = p[i + 2..].iter().collect();
            if let Some(end) = rest.find(":]") {
                items.push(ClassItem::Named(rest[..end].to_string()));
                i += 2 + rest[..end].chars().count() + 2;
                continue;
            }
        }
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|&e| e != ']') {
            items.push(ClassItem::Range(c, p[i + 2]));
            i += 3;
        } else {
            items.push(ClassItem::One(c));
            i += 1;
        }
    }
    None
}

fn atom_matches(a: &Atom, c: char) -> bool {
    match a {
        Atom::Any => true,
        Atom::Char(x) => *x == c,
        Atom::Class { negate, items } => {
            let hit = items.iter().any(|it| match it {
                ClassItem::One(x) => *x == c,
                ClassItem::Range(lo, hi) => *lo <= c && c <= *hi,
                ClassItem::Named(n) => match n.as_str() {
                    "digit" => c.is_ascii_digit(),
                    "alpha" => c.is_alphabetic(),
                    "alnum" => c.is_alphanumeric(),
                    "space" => c.is_whitespace(),
                    "upper" => c.is_uppercase(),
                    "lower" => c.is_lowercase(),
                    "punct" => c.is_ascii_punctuation(),
                    "xdigit" => c.is_ascii_hexdigit(),
                    _ => false,
                },
            });
            hit != *negate
        }
    }
}

/// NFA simulation: state `k` = "the first k items are matched".
fn seq_matches(s: &Seq, line: &[char]) -> bool {
    let n = s.items.len();
    let mut cur = vec![false; n + 1];
    let mut next = vec![false; n + 1];
    let close = |set: &mut Vec<bool>| {
        for k in 0..n {
            if set[k] && s.items[k].1 != Rep::One {
                set[k + 1] = true;
            }
        }
    };
    cur[0] = true;
    close(&mut cur);
    let accept = |set: &[bool], at_end: bool| set[n] && (!s.anchored_end || at_end);
    if accept(&cur, line.is_empty()) {
        return true;
    }
    for (pos, &c) in line.iter().enumerate() {
        next.iter_mut().for_each(|x| *x = false);
        for k in 0..n {
            if !cur[k] {
                continue;
            }
            let (atom, rep) = &s.items[k];
            if atom_matches(atom, c) {
                match rep {
                    Rep::Star => next[k] = true,
                    Rep::One | Rep::Opt => next[k + 1] = true,
                }
                if *rep == Rep::Star {
                    next[k + 1] = true;
                }
            }
        }
        if !s.anchored_start {
            next[0] = true;
        }
        close(&mut next);
        std::mem::swap(&mut cur, &mut next);
        if accept(&cur, pos + 1 == line.len()) {
            return true;
        }
    }
    false
}

/// Options of `grep`.
#[derive(Debug, Clone, Default)]
pub(super) struct GrepOpts {
    pub after: usize,
    pub before: usize,
    pub invert: bool,
    pub count: bool,
    pub line_numbers: bool,
    pub quiet: bool,
}

/// Run grep over `input`; returns the output and whether anything matched.
pub(super) fn grep(input: &str, pat: &Pattern, o: &GrepOpts) -> (String, bool) {
    let lines: Vec<&str> = input.lines().collect();
    let hits: Vec<bool> = lines.iter().map(|l| pat.is_match(l) != o.invert).collect();
    let any = hits.iter().any(|&h| h);
    if o.quiet {
        return (String::new(), any);
    }
    if o.count {
        return (format!("{}\n", hits.iter().filter(|&&h| h).count()), any);
    }
    let mut out = String::new();
    let mut last_printed: Option<usize> = None;
    let mut after_left = 0usize;
    let context = o.after > 0 || o.before > 0;
    for i in 0..lines.len() {
        let print = if hits[i] {
            after_left = o.after;
            true
        } else if after_left > 0 {
            after_left -= 1;
            true
        } else {
            false
        };
        if !print {
            continue;
        }
        let from = if hits[i] {
            i.saturating_sub(o.before)
        } else {
            i
        };
        let from = match last_printed {
            Some(lp) => from.max(lp + 1),
            None => from,
        };
        if context
            && let Some(lp) = last_printed
            && from > lp + 1
        {
            out.push_str("--\n");
        }
        for (j, l) in lines.iter().enumerate().take(i + 1).skip(from) {
            if o.line_numbers {
                let sep = if hits[j] { ':' } else { '-' };
                out.push_str(&format!("{}{sep}", j + 1));
            }
            out.push_str(l);
            out.push('\n');
        }
        last_printed = Some(i);
    }
    (out, any)
}

/// `head -n N` (negative: all but the last N).
pub(super) fn head(input: &str, n: i64) -> String {
    let lines: Vec<&str> = input.split_inclusive('\n').collect();
    let take = if n >= 0 {
        (n as usize).min(lines.len())
    } else {
        lines.len().saturating_sub(n.unsigned_abs() as usize)
    };
    lines[..take].concat()
}

/// `tail -n N` (`+N`: from line N on).
pub(super) fn tail(input: &str, n: usize, from_start: bool) -> String {
    let lines: Vec<&str> = input.split_inclusive('\n').collect();
    let skip = if from_start {
        n.saturating_sub(1).min(lines.len())
    } else {
        lines.len().saturating_sub(n)
    };
    lines[skip..].concat()
}

/// `wc` counts: (lines, words, bytes).
pub(super) fn wc(input: &str) -> (usize, usize, usize) {
    (
        input.matches('\n').count(),
        input.split_whitespace().count(),
        input.len(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, l: &str) -> bool {
        Pattern::new(p, false, false, false).is_match(l)
    }

    #[test]
    fn basic_regular_expressions() {
        assert!(m("<model>", "      <model>Skylake</model>"));
        assert!(!m("<model>", "<signature model='94'/>"));
        assert!(m("^ab*c$", "abbbc"));
        assert!(m("^ab*c$", "ac"));
        assert!(!m("^ab*c$", "xac"));
        assert!(m("a.c", "abc"));
        assert!(m("[0-9][0-9]*%", "Migration: [ 12.34 %]") || m("[0-9]", "1"));
        assert!(m("db01\\|web", "web01"));
        assert!(m("[[:digit:]]", "x9"));
        assert!(m("", "anything"));
        assert!(Pattern::new("db0[1-2]+|x", true, false, false).is_match("db012"));
        assert!(Pattern::new("DB01", false, false, true).is_match("db01"));
        assert!(Pattern::new("a.c", false, true, false).is_match("xa.cx"));
        assert!(!Pattern::new("a.c", false, true, false).is_match("abc"));
    }

    #[test]
    fn pathological_patterns_stay_fast() {
        let p = Pattern::new(&"a*".repeat(200), false, false, false);
        assert!(p.is_match(&"a".repeat(5000)));
        let p = Pattern::new(&format!("{}b", "a*".repeat(200)), false, false, false);
        assert!(!p.is_match(&"a".repeat(5000)));
    }

    #[test]
    fn grep_context_prints_group_separators() {
        let text = "a\nmodel 1\nb\nc\nd\ne\nmodel 2\nf\n";
        let pat = Pattern::new("model", false, false, false);
        let (out, any) = grep(
            text,
            &pat,
            &GrepOpts {
                after: 1,
                ..GrepOpts::default()
            },
        );
        assert!(any);
        assert_eq!(out, "model 1\nb\n--\nmodel 2\nf\n");
        let (out, _) = grep(
            text,
            &pat,
            &GrepOpts {
                before: 1,
                line_numbers: true,
                ..GrepOpts::default()
            },
        );
        assert_eq!(out, "1-a\n2:model 1\n--\n6-e\n7:model 2\n");
        let (out, any) = grep(
            text,
            &Pattern::new("zzz", false, false, false),
            &GrepOpts::default(),
        );
        assert!(!any && out.is_empty());
    }

    #[test]
    fn head_tail_wc() {
        let t = "1\n2\n3\n4\n";
        assert_eq!(head(t, 2), "1\n2\n");
        assert_eq!(head(t, -1), "1\n2\n3\n");
        assert_eq!(tail(t, 2, false), "3\n4\n");
        assert_eq!(tail(t, 2, true), "2\n3\n4\n");
        assert_eq!(wc(t), (4, 4, 8));
    }
}
