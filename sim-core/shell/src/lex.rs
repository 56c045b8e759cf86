//! Bash-like parsing of one input line: words with quotes and escapes, `;` `&&` `||` sequences,
//! `|` pipes, `>`/`>>`/`2>`/`2>&1`/`&>` redirections and a trailing `&`.
//!
//! Only the subset a student types in the lab is understood; everything else is either an
//! ordinary character (backticks, `$`) or a bash syntax error worded as bash words it (`(`, `)`,
//! `;;`, a pipe with nothing before it). Parsing never panics and is linear in the input.

/// Stands in a word's text for an unquoted or double-quoted `$!` (the newest background job's
/// pid) until the word is expanded. A private-use character: no student types it.
pub(super) const PARAM_LAST_BG_PID: char = '\u{F8F0}';
/// Stands for `$?` (the last exit status) the same way.
pub(super) const PARAM_STATUS: char = '\u{F8F1}';

/// A word after quote removal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Word {
    /// The text, quotes and escapes removed.
    pub text: String,
    /// It contains an unquoted `*`, `?` or `[`: a candidate for pathname expansion.
    pub glob: bool,
    /// It starts with an unquoted `~` followed by `/` or nothing.
    pub tilde: bool,
}

/// Where a redirected stream goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Target {
    /// A file (`> caps.xml`).
    File(Word),
    /// Another descriptor (`2>&1`).
    Fd(u8),
}

/// One redirection of a simple command, applied left to right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Redirect {
    /// 1 = stdout, 2 = stderr, 3 = both (`&>`).
    pub fd: u8,
    /// `>>`: append instead of truncating.
    pub append: bool,
    /// Where it goes.
    pub target: Target,
}

/// A command and its arguments.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Simple {
    /// Command name first.
    pub words: Vec<Word>,
    /// Redirections in the order written.
    pub redirects: Vec<Redirect>,
    /// `< file` was used (not supported by the lab shell).
    pub input_redirect: bool,
}

/// Commands joined by `|`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Pipeline {
    /// At least one command.
    pub cmds: Vec<Simple>,
    /// Ended with `&`.
    pub background: bool,
}

/// How a pipeline is joined to the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Connector {
    /// `;`, `&` or a new line: always run.
    Always,
    /// `&&`: run if the previous status is 0.
    And,
    /// `||`: run if the previous status is not 0.
    Or,
}

/// A parse error, worded as bash words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SyntaxError {
    /// An unmatched quote.
    UnmatchedQuote(char),
    /// A token where none may stand.
    UnexpectedToken(String),
    /// The line ends where bash wanted more (`a &&`).
    UnexpectedEnd,
}

impl SyntaxError {
    /// The lines bash prints (without the final newline), status 2.
    pub fn message(&self) -> String {
        match self {
            SyntaxError::UnmatchedQuote(q) => format!(
                "bash: unexpected EOF while looking for matching `{q}'\nbash: syntax error: unexpected end of file"
            ),
            SyntaxError::UnexpectedToken(t) => {
                format!("bash: syntax error near unexpected token `{t}'")
            }
            SyntaxError::UnexpectedEnd => "bash: syntax error: unexpected end of file".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(Word),
    /// `;`, `;;`, `&`, `&&`, `|`, `||`, `(`, `)`.
    Op(&'static str),
    /// `>`, `>>`, `2>`, `2>>`, `&>`, `&>>`: the fd and whether it appends.
    Redir(u8, bool),
    /// `>&N` / `2>&N`.
    Dup(u8, u8),
    /// `<`.
    Input,
    /// End of a line inside the input (acts like `;`).
    Newline,
}

/// Split `line` into tokens.
fn tokenize(line: &str) -> Result<Vec<Tok>, SyntaxError> {
    let chars: Vec<char> = line.chars().collect();
    let mut toks = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut glob = false;
    let mut tilde = false;
    // Was the current word quoted anywhere (so `2` in `"2">f` is not a descriptor)?
    let mut quoted = false;
    let mut i = 0;

    macro_rules! end_word {
        () => {
            if in_word {
                toks.push(Tok::Word(Word {
                    text: std::mem::take(&mut cur),
                    glob,
                    tilde,
                }));
                in_word = false;
                glob = false;
                tilde = false;
                quoted = false;
            }
        };
    }

    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            ' ' | '\t' | '\r' => {
                end_word!();
                i += 1;
            }
            '\n' => {
                end_word!();
                toks.push(Tok::Newline);
                i += 1;
            }
            '#' if !in_word => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '\\' => {
                match next {
                    // Line continuation.
                    Some('\n') => {}
                    Some(n) => {
                        cur.push(n);
                        in_word = true;
                        quoted = true;
                    }
                    // A trailing backslash continues the line in bash; here nothing follows.
                    None => {}
                }
                i += 2;
            }
            '\'' => {
                in_word = true;
                quoted = true;
                let start = i + 1;
                let Some(len) = chars[start..].iter().position(|&x| x == '\'') else {
                    return Err(SyntaxError::UnmatchedQuote('\''));
                };
                cur.extend(&chars[start..start + len]);
                i = start + len + 1;
            }
            '"' => {
                in_word = true;
                quoted = true;
                i += 1;
                let mut closed = false;
                while i < chars.len() {
                    match chars[i] {
                        '"' => {
                            closed = true;
                            i += 1;
                            break;
                        }
                        '\\' => match chars.get(i + 1).copied() {
                            Some(e @ ('"' | '\\' | '$' | '`')) => {
                                cur.push(e);
                                i += 2;
                            }
                            Some('\n') => i += 2,
                            _ => {
                                cur.push('\\');
                                i += 1;
                            }
                        },
                        '$' if matches!(chars.get(i + 1), Some('!' | '?')) => {
                            cur.push(special_param(chars[i + 1]));
                            i += 2;
                        }
                        x => {
                            cur.push(x);
                            i += 1;
                        }
                    }
                }
                if !closed {
                    return Err(SyntaxError::UnmatchedQuote('"'));
                }
            }
            ';' => {
                end_word!();
                if next == Some(';') {
                    toks.push(Tok::Op(";;"));
                    i += 2;
                } else {
                    toks.push(Tok::Op(";"));
                    i += 1;
                }
            }
            '|' => {
                end_word!();
                if next == Some('|') {
                    toks.push(Tok::Op("||"));
                    i += 2;
                } else {
                    toks.push(Tok::Op("|"));
                    i += 1;
                }
            }
            '&' => {
                end_word!();
                match next {
                    Some('&') => {
                        toks.push(Tok::Op("&&"));
                        i += 2;
                    }
                    Some('>') => {
                        let append = chars.get(i + 2) == Some(&'>');
                        toks.push(Tok::Redir(3, append));
                        i += if append { 3 } else { 2 };
                    }
                    _ => {
                        toks.push(Tok::Op("&"));
                        i += 1;
                    }
                }
            }
            '(' | ')' => {
                end_word!();
                toks.push(Tok::Op(if c == '(' { "(" } else { ")" }));
                i += 1;
            }
            '<' => {
                end_word!();
                toks.push(Tok::Input);
                i += 1;
            }
            '>' => {
                // `2>`: the word so far is exactly an unquoted "1" or "2".
                let fd = if in_word && !quoted && (cur == "2" || cur == "1") {
                    let fd = if cur == "2" { 2 } else { 1 };
                    cur.clear();
                    in_word = false;
                    glob = false;
                    tilde = false;
                    fd
                } else {
                    end_word!();
                    1
                };
                if next == Some('&')
                    && let Some(d) = chars.get(i + 2).and_then(|d| d.to_digit(10))
                {
                    toks.push(Tok::Dup(fd, d as u8));
                    i += 3;
                } else if next == Some('>') {
                    toks.push(Tok::Redir(fd, true));
                    i += 2;
                } else {
                    toks.push(Tok::Redir(fd, false));
                    i += 1;
                }
            }
            '$' if matches!(next, Some('!' | '?')) => {
                cur.push(special_param(next.unwrap_or('?')));
                in_word = true;
                i += 2;
            }
            _ => {
                if !in_word && c == '~' && matches!(next, None | Some('/' | ' ' | '\t' | ';')) {
                    tilde = true;
                }
                if matches!(c, '*' | '?' | '[') {
                    glob = true;
                }
                cur.push(c);
                in_word = true;
                i += 1;
            }
        }
    }
    if in_word {
        toks.push(Tok::Word(Word {
            text: cur,
            glob,
            tilde,
        }));
    }
    Ok(toks)
}

/// The stand-in for `$!` or `$?`.
fn special_param(c: char) -> char {
    if c == '!' {
        PARAM_LAST_BG_PID
    } else {
        PARAM_STATUS
    }
}

/// Parse `line` into pipelines joined by connectors (the first connector is `Always`).
pub(super) fn parse(line: &str) -> Result<Vec<(Connector, Pipeline)>, SyntaxError> {
    let toks = tokenize(line)?;
    let mut out: Vec<(Connector, Pipeline)> = Vec::new();
    let mut connector = Connector::Always;
    let mut pipeline = Pipeline::default();
    let mut simple = Simple::default();
    // After `&&`, `||` or `|` another command must follow.
    let mut need_more = false;
    let mut it = toks.into_iter().peekable();

    let token_name = |t: &Tok| -> String {
        match t {
            Tok::Word(w) => w.text.clone(),
            Tok::Op(o) => (*o).to_string(),
            Tok::Redir(3, false) => "&>".into(),
            Tok::Redir(3, true) => "&>>".into(),
            Tok::Redir(_, true) => ">>".into(),
            Tok::Redir(_, false) => ">".into(),
            Tok::Dup(_, _) => ">&".into(),
            Tok::Input => "<".into(),
            Tok::Newline => "newline".into(),
        }
    };

    while let Some(tok) = it.next() {
        match tok {
            Tok::Word(w) => {
                simple.words.push(w);
                need_more = false;
            }
            Tok::Redir(fd, append) => match it.next() {
                Some(Tok::Word(w)) => {
                    simple.redirects.push(Redirect {
                        fd,
                        append,
                        target: Target::File(w),
                    });
                    need_more = false;
                }
                Some(other) => return Err(SyntaxError::UnexpectedToken(token_name(&other))),
                None => return Err(SyntaxError::UnexpectedToken("newline".into())),
            },
            Tok::Dup(fd, to) => {
                simple.redirects.push(Redirect {
                    fd,
                    append: false,
                    target: Target::Fd(to),
                });
                need_more = false;
            }
            Tok::Input => match it.next() {
                Some(Tok::Word(_)) => {
                    simple.input_redirect = true;
                    need_more = false;
                }
                Some(other) => return Err(SyntaxError::UnexpectedToken(token_name(&other))),
                None => return Err(SyntaxError::UnexpectedToken("newline".into())),
            },
            Tok::Op("|") => {
                if simple.words.is_empty() && simple.redirects.is_empty() {
                    return Err(SyntaxError::UnexpectedToken("|".into()));
                }
                pipeline.cmds.push(std::mem::take(&mut simple));
                need_more = true;
            }
            Tok::Op(op @ (";" | "&" | "&&" | "||")) => {
                if simple.words.is_empty() && simple.redirects.is_empty() {
                    return Err(SyntaxError::UnexpectedToken(op.into()));
                }
                pipeline.cmds.push(std::mem::take(&mut simple));
                pipeline.background = op == "&";
                out.push((connector, std::mem::take(&mut pipeline)));
                connector = match op {
                    "&&" => Connector::And,
                    "||" => Connector::Or,
                    _ => Connector::Always,
                };
                need_more = matches!(op, "&&" | "||");
            }
            Tok::Newline => {
                if simple.words.is_empty() && simple.redirects.is_empty() {
                    if !pipeline.cmds.is_empty() {
                        // `a |` then a new line: bash wants the next command.
                        continue;
                    }
                    continue;
                }
                pipeline.cmds.push(std::mem::take(&mut simple));
                out.push((connector, std::mem::take(&mut pipeline)));
                connector = Connector::Always;
                need_more = false;
            }
            Tok::Op(other) => return Err(SyntaxError::UnexpectedToken(other.into())),
        }
    }
    if simple.words.is_empty() && simple.redirects.is_empty() {
        if need_more {
            return Err(SyntaxError::UnexpectedEnd);
        }
    } else {
        pipeline.cmds.push(simple);
    }
    if !pipeline.cmds.is_empty() {
        out.push((connector, pipeline));
    }
    Ok(out)
}

/// Quote `s` for display (job lines, `history`) with the one shell quoter,
/// [`migralab_sim_core::term::shell_word`].
pub(super) fn quote_for_display(s: &str) -> String {
    if s.contains([PARAM_LAST_BG_PID, PARAM_STATUS]) {
        // As typed: `kill $!`.
        return s
            .replace(PARAM_LAST_BG_PID, "$!")
            .replace(PARAM_STATUS, "$?");
    }
    migralab_sim_core::term::shell_word(s).into_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn words(line: &str) -> Vec<Vec<String>> {
        parse(line)
            .unwrap()
            .into_iter()
            .flat_map(|(_, p)| p.cmds)
            .map(|s| s.words.into_iter().map(|w| w.text).collect())
            .collect()
    }

    #[test]
    fn quotes_and_escapes_are_removed() {
        assert_eq!(
            words(r#"grep -A5 '<model>' "a b" c\ d "x\"y" 'it'\''s'"#),
            vec![vec!["grep", "-A5", "<model>", "a b", "c d", "x\"y", "it's"]]
        );
    }

    #[test]
    fn sequences_pipes_and_redirections() {
        let p = parse("virsh capabilities > caps.xml; cat a >> b && echo ok || echo no | wc -l &")
            .unwrap();
        assert_eq!(p.len(), 4);
        assert_eq!(p[0].1.cmds[0].redirects[0].fd, 1);
        assert!(!p[0].1.cmds[0].redirects[0].append);
        assert!(p[1].1.cmds[0].redirects[0].append);
        assert_eq!(p[2].0, Connector::And);
        assert_eq!(p[3].0, Connector::Or);
        assert_eq!(p[3].1.cmds.len(), 2);
        assert!(p[3].1.background);
        let p = parse("virsh list 2>&1 2>/dev/null").unwrap();
        assert_eq!(
            p[0].1.cmds[0].redirects[0],
            Redirect {
                fd: 2,
                append: false,
                target: Target::Fd(1)
            }
        );
        assert_eq!(p[0].1.cmds[0].redirects[1].fd, 2);
        assert_eq!(words("echo 2 > f"), vec![vec!["echo", "2"]]);
    }

    #[test]
    fn bash_syntax_errors() {
        assert_eq!(
            parse("echo \"abc").unwrap_err().message(),
            "bash: unexpected EOF while looking for matching `\"'\nbash: syntax error: unexpected end of file"
        );
        assert_eq!(
            parse("| grep x").unwrap_err(),
            SyntaxError::UnexpectedToken("|".into())
        );
        assert_eq!(
            parse("a ;; b").unwrap_err(),
            SyntaxError::UnexpectedToken(";;".into())
        );
        assert_eq!(parse("a &&").unwrap_err(), SyntaxError::UnexpectedEnd);
        assert_eq!(
            parse("echo >").unwrap_err(),
            SyntaxError::UnexpectedToken("newline".into())
        );
        assert!(parse("").unwrap().is_empty());
        assert!(parse("   # only a comment").unwrap().is_empty());
    }

    #[test]
    fn globs_and_tilde_are_marked_only_when_unquoted() {
        let p = parse("cat *.xml '*.txt' ~/a ~").unwrap();
        let w = &p[0].1.cmds[0].words;
        assert!(w[1].glob && !w[2].glob);
        assert!(w[3].tilde && w[4].tilde && !w[1].tilde);
    }
}
