//! A trace as data for other tools: the progress samples as CSV (the same CSV `migralab sim --csv`
//! prints) and the plain trace as JSON, plus reading a saved trace back.

use super::ExportError;
use crate::export::text::ProgressCsv;
use migralab_sim_core::Trace;

/// One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break. A text that
/// a spreadsheet would run as a formula — starting with `=`, `+`, `-`, `@`, a tab or a carriage
/// return — gets a leading `'` (and quotes), so a student's name or a scenario's VM name opens
/// as text, never as a formula (OWASP's advice on CSV injection). Numbers are written without
/// this helper, so a negative number stays a number.
pub fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if formula {
        format!("\"'{}\"", s.replace('"', "\"\"")).into()
    } else if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

/// Every progress sample of `trace` as CSV, header first (see [`crate::export::text::CSV_HEADER`]).
pub fn csv(trace: &Trace) -> String {
    ProgressCsv(trace).to_string()
}

/// `trace` as pretty JSON with a final newline: a plain trace, without the summary keys
/// `migralab sim --json` adds (they are recomputed from the events).
pub fn json(trace: &Trace) -> Result<String, ExportError> {
    let mut text = trace.to_json()?;
    text.push('\n');
    Ok(text)
}

/// Read a saved trace: a plain [`Trace`] or the output of `migralab sim --json`, whose extra
/// `outcome`, `ping` and `vms` keys are derived from the events and so are ignored.
pub fn parse_trace(text: &str) -> Result<Trace, serde_json::Error> {
    Trace::from_json(text)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use migralab_sim_core::{RunSummary, Simulator};

    #[test]
    fn csv_fields_are_quoted_when_needed_and_never_run_as_formulas() {
        assert_eq!(csv_field("db01"), "db01");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        // Whatever a spreadsheet would evaluate opens as the same text instead.
        for cell in [
            "=1+1",
            "+1",
            "-1",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "=HYPERLINK(\"x\",\"y\")",
        ] {
            let field = csv_field(cell);
            assert!(field.starts_with("\"'"), "{cell:?} -> {field}");
            let inner = &field[2..field.len() - 1];
            assert_eq!(inner.replace("\"\"", "\""), cell);
        }
        // Inside a text they are harmless.
        assert_eq!(csv_field("a=b"), "a=b");
    }
    use std::path::Path;

    #[test]
    fn both_the_sim_json_and_a_plain_trace_read_back_to_the_same_trace() {
        let scenario = crate::scenarios::load(Some(Path::new("lesson")), &[]).unwrap();
        let trace = Simulator::run(scenario);
        let with_summary = crate::export::text::json(&trace, &RunSummary::of(&trace)).unwrap();
        assert_eq!(parse_trace(&with_summary).unwrap(), trace);
        assert_eq!(parse_trace(&json(&trace).unwrap()).unwrap(), trace);
        assert!(parse_trace("{\"hello\": 1}").is_err());
    }

    #[test]
    fn csv_has_a_header_and_one_row_per_sample() {
        let scenario = crate::scenarios::load(Some(Path::new("lesson")), &[]).unwrap();
        let trace = Simulator::run(scenario);
        let text = csv(&trace);
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(crate::export::text::CSV_HEADER));
        assert_eq!(lines.count(), trace.samples("db01").count());
    }
}
