//! Turning TOML text (plus `--set` overrides) into a validated [`Scenario`], with errors that
//! point at the file, line and column.

use super::Scenario;
use super::measured::{misplaced_keys, moved_message};
use crate::error::ScenarioError;
use crate::located::{Located, LocatedError};
use serde::Deserialize as _;
use toml::{Table, Value};

impl Scenario {
    /// Parse and validate a scenario from TOML text.
    pub fn from_toml_str(text: &str) -> Result<Scenario, ScenarioError> {
        Scenario::load(
            Located {
                text,
                origin: "<string>",
            },
            &[],
        )
    }

    /// Parse a scenario, apply `key=value` overrides (dotted paths), then validate it. Errors name
    /// `src.origin` with line and column; a value that came from an override says so.
    pub fn load(src: Located<'_>, overrides: &[String]) -> Result<Scenario, ScenarioError> {
        // First pass straight from the text, so schema errors carry the real line and column.
        let parsed: Scenario = toml::from_str(src.text)
            .map_err(|e| misplaced_error(src).unwrap_or_else(|| parse_error(src, &e)))?;
        let mut touched: Vec<String> = Vec::new();
        let scenario = if overrides.is_empty() {
            parsed
        } else {
            let mut table: Table = toml::from_str(src.text).map_err(|e| parse_error(src, &e))?;
            for assignment in overrides {
                let path = apply_override(&mut table, assignment)?;
                replace_memory_alternative(&mut table, &path);
                touched.push(path);
            }
            if let Some((path, key)) = misplaced_keys(&table).into_iter().next() {
                let vm = path.rsplit_once('.').map_or("vm", |(vm, _)| vm);
                return Err(ScenarioError::Override {
                    assignment: overrides.join(" "),
                    message: format!("{} (--set {vm}.measured.{key}=...)", moved_message(key)),
                });
            }
            Scenario::deserialize(table).map_err(|e| ScenarioError::Override {
                assignment: overrides.join(" "),
                message: e.message().trim().to_string(),
            })?
        };
        if let Err((path, message)) = scenario.validate() {
            // The value itself, or a neighbour in the same entry (`vm.0.*`), came from --set.
            let entry = |p: &str| p.splitn(3, '.').take(2).collect::<Vec<_>>().join(".");
            let set_by_override = touched.iter().any(|k| {
                path.starts_with(k.as_str()) || k.starts_with(&path) || entry(k) == entry(&path)
            });
            let message = if set_by_override {
                format!("{message} (after --set {})", overrides.join(" --set "))
            } else {
                message
            };
            return Err(LocatedError::at_path(src, &path, message).into());
        }
        Ok(scenario)
    }

    /// The scenario as a TOML table (what `--set` edits and what traces embed).
    pub fn to_toml_string(&self) -> Result<String, toml::ser::Error> {
        toml::to_string(self)
    }
}

/// A VM's memory is `written_mib` or `zero_fraction`: a `--set` of one replaces the other the
/// file gave (`--set vm.0.zero_fraction=0.5` on a guest described by what it wrote), where the
/// file itself may not give both.
fn replace_memory_alternative(table: &mut Table, path: &str) {
    let mut parts = path.split('.');
    let (Some("vm"), Some(index), Some(key), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return;
    };
    let other = match key {
        "written_mib" => "zero_fraction",
        "zero_fraction" => "written_mib",
        _ => return,
    };
    let vm = index.parse::<usize>().ok().and_then(|i| {
        table
            .get_mut("vm")?
            .as_array_mut()?
            .get_mut(i)?
            .as_table_mut()
    });
    if let Some(vm) = vm {
        vm.remove(other);
    }
}

/// A measured-guest knob written straight into `[[vm]]`, reported where it is written.
fn misplaced_error(src: Located<'_>) -> Option<ScenarioError> {
    let table: Table = toml::from_str(src.text).ok()?;
    // The first one written.
    let ((line, column), key) = misplaced_keys(&table)
        .into_iter()
        .map(|(path, key)| (crate::tomlspan::line_col_of_path(src.text, &path), key))
        .min()?;
    Some(
        LocatedError {
            origin: src.origin.to_string(),
            line,
            column: Some(column),
            subject: None,
            message: moved_message(key),
        }
        .into(),
    )
}

fn parse_error(src: Located<'_>, e: &toml::de::Error) -> ScenarioError {
    LocatedError::from_toml(src, e).into()
}

/// Apply one `dotted.path=value` override to a scenario table.
///
/// The value is read as a TOML value (`1000`, `true`, `"text"`, `[1, 2]`); anything that is not
/// valid TOML is taken as a plain string. Inside an array of tables (`vm`, `migration`, `host`) a
/// segment may be an index (`vm.1.ram_mib`) or the element's name (`vm.db01.ram_mib`); with a
/// single element it may be left out (`migration.auto_converge=true`).
///
/// Returns the path it set, with array indices resolved (`vm.0.ram_mib`).
pub fn apply_override(table: &mut Table, assignment: &str) -> Result<String, ScenarioError> {
    let err = |message: String| ScenarioError::Override {
        assignment: assignment.to_string(),
        message,
    };
    let (key, raw) = assignment
        .split_once('=')
        .ok_or_else(|| err("expected key=value, e.g. link.bandwidth_mibps=1000".into()))?;
    let key = key.trim();
    if key.is_empty() {
        return Err(err("the key is empty".into()));
    }
    let value = parse_value(raw.trim());
    let segments: Vec<&str> = key.split('.').collect();
    let mut node: &mut Table = table;
    let mut resolved: Vec<String> = Vec::new();
    let mut i = 0;
    while i + 1 < segments.len() {
        let seg = segments[i];
        resolved.push(seg.to_string());
        let entry = node
            .entry(seg.to_string())
            .or_insert_with(|| Value::Table(Table::new()));
        node = match entry {
            Value::Table(t) => t,
            Value::Array(items) => {
                let next = segments[i + 1];
                let (idx, consumed) = match next.parse::<usize>() {
                    Ok(n) => (Some(n), true),
                    Err(_) => {
                        let by_name = items.iter().position(|it| {
                            it.get("name").and_then(Value::as_str) == Some(next)
                                || it.get("vm").and_then(Value::as_str) == Some(next)
                        });
                        match by_name {
                            Some(p) => (Some(p), true),
                            None if items.len() == 1 => (Some(0), false),
                            None => (None, false),
                        }
                    }
                };
                let len = items.len();
                let Some(idx) = idx else {
                    return Err(err(format!(
                        "`{seg}` has {len} entries: say which one, by index (`{seg}.0.{next}`) or by name"
                    )));
                };
                let item = items.get_mut(idx).ok_or_else(|| {
                    err(format!(
                        "`{seg}` has {len} entries, there is no index {idx}"
                    ))
                })?;
                resolved.push(idx.to_string());
                if consumed {
                    i += 1;
                    if i + 1 >= segments.len() {
                        return Err(err(format!(
                            "`{key}` names a whole entry, not a value inside it"
                        )));
                    }
                }
                match item {
                    Value::Table(t) => t,
                    _ => return Err(err(format!("`{seg}` entries are not tables"))),
                }
            }
            _ => return Err(err(format!("`{seg}` is a value, not a table"))),
        };
        i += 1;
    }
    let last = segments[segments.len() - 1];
    node.insert(last.to_string(), value);
    resolved.push(last.to_string());
    Ok(resolved.join("."))
}

fn parse_value(raw: &str) -> Value {
    #[derive(serde::Deserialize)]
    struct Wrapper {
        v: Value,
    }
    toml::from_str::<Wrapper>(&format!("v = {raw}"))
        .map_or_else(|_| Value::String(raw.to_string()), |w| w.v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_reaches_into_arrays_by_index_name_and_single_entry() {
        let mut t: Table = toml::from_str(
            "[[vm]]\nname='a'\nram_mib=1\n[[vm]]\nname='b'\nram_mib=2\n[[migration]]\nvm='a'\nto='h'\n",
        )
        .unwrap_or_default();
        apply_override(&mut t, "vm.1.ram_mib=10").unwrap_or_else(|e| panic!("{e}"));
        let path = apply_override(&mut t, "vm.a.ram_mib=20").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(path, "vm.0.ram_mib");
        apply_override(&mut t, "migration.auto_converge=true").unwrap_or_else(|e| panic!("{e}"));
        let vms = t["vm"].as_array().cloned().unwrap_or_default();
        assert_eq!(vms[1]["ram_mib"].as_integer(), Some(10));
        assert_eq!(vms[0]["ram_mib"].as_integer(), Some(20));
        assert_eq!(t["migration"][0]["auto_converge"].as_bool(), Some(true));
        let e = apply_override(&mut t, "vm.ram_mib=3")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("has 2 entries"), "{e}");
        assert!(apply_override(&mut t, "novalue").is_err());
    }

    #[test]
    fn override_values_are_toml_or_plain_strings() {
        assert_eq!(parse_value("1000"), Value::Integer(1000));
        assert_eq!(parse_value("2.5"), Value::Float(2.5));
        assert_eq!(parse_value("true"), Value::Boolean(true));
        assert_eq!(
            parse_value("kvm-host-02"),
            Value::String("kvm-host-02".into())
        );
    }
}
