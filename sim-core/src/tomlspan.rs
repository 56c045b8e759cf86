//! Where a value is written in a TOML text, so errors about a value (not just syntax errors) can
//! name the line and column. Shared by the scenario and quiz loaders.

use toml::de::{DeTable, DeValue};

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Byte offset of the value at a dotted path (`vm.0.workload.set_mib`) in a parsed document, or
/// of the deepest table on that path that exists (a missing key is reported where its table is).
pub fn offset_of_path(root: &toml::Spanned<DeTable<'_>>, path: &str) -> usize {
    let mut span = root.span();
    let mut current: Option<&DeValue<'_>> = None;
    let mut table: Option<&DeTable<'_>> = Some(root.get_ref());
    for seg in path.split('.') {
        let next = match (table, current) {
            (Some(t), _) => t
                .iter()
                .find(|(k, _)| k.get_ref().as_ref() == seg)
                .map(|(_, v)| v),
            (None, Some(DeValue::Array(items))) => {
                seg.parse::<usize>().ok().and_then(|i| items.get(i))
            }
            _ => None,
        };
        let Some(v) = next else { break };
        span = v.span();
        current = Some(v.get_ref());
        table = match v.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => None,
        };
    }
    span.start
}

/// Line and column of the value at a dotted path in `text` (1:1 if the text does not parse).
pub fn line_col_of_path(text: &str, path: &str) -> (usize, usize) {
    match DeTable::parse(text) {
        Ok(root) => line_col(text, offset_of_path(&root, path)),
        Err(_) => (1, 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let text = "a = 1\nbb = 2\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        assert_eq!(line_col(text, 11), (2, 6));
    }

    #[test]
    fn paths_reach_into_arrays_of_tables() {
        let text = "[[vm]]\nname = 'a'\n[[vm]]\nname = 'b'\nram = 2\n";
        assert_eq!(line_col_of_path(text, "vm.1.ram"), (5, 7));
        // A missing key is reported where its table is.
        assert_eq!(line_col_of_path(text, "vm.1.nope").0, 3);
    }
}
