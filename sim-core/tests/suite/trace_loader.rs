//! Issue 22 "Done means": the trace loader (`Trace::from_json`, what `migralab report` reads)
//! takes anything — arbitrary text, and real traces with values replaced, keys dropped and
//! bytes cut — and gives a trace or an error, never a panic; a trace it accepts can be
//! summarised; and every trace the simulator writes reads back equal.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use migralab_sim_core::{RunSummary, Scenario, Simulator, Trace};
use proptest::prelude::*;
use serde_json::Value;
use std::sync::OnceLock;

/// A small lab (64 MiB, a hot set, a prober) that migrates in well under a second of CPU.
fn scenario(seed: u64, rate: f64) -> Scenario {
    let text = format!(
        "name = 'fuzz'\nseed = {seed}\n[[host]]\nname = 'a'\nip = '10.0.0.1'\n[[host]]\nname = 'b'\n\
         ip = '10.0.0.2'\n[link]\nbandwidth_mibps = 100.0\n[storage]\nkind = 'shared'\n[[vm]]\n\
         name = 'db01'\nhost = 'a'\nram_mib = 64\nip = '10.0.0.50'\n\
         workload = {{ kind = 'hot-set', set_mib = 16, rate_mibps = {rate} }}\n\
         [[migration]]\nvm = 'db01'\nto = 'b'\n[sim]\nmax_time_s = 20.0\n"
    );
    Scenario::from_toml_str(&text).unwrap()
}

/// Two real traces as JSON (one converging, one not), made once for every case.
fn traces() -> &'static [String; 2] {
    static T: OnceLock<[String; 2]> = OnceLock::new();
    T.get_or_init(|| [5.0, 400.0].map(|rate| Simulator::run(scenario(1, rate)).to_json().unwrap()))
}

/// A JSON value of any shape, small.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        Just(Value::String("\u{1b}[2J\u{202e}".into())),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// One structure-aware edit: at the `pick`-th node (in document order) of the trace, replace
/// the value, drop it from its object or array, or duplicate it in its array.
#[derive(Debug, Clone)]
enum Edit {
    Replace(usize, Value),
    Remove(usize),
    Duplicate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), json_value()).prop_map(|(i, v)| Edit::Replace(i, v)),
        any::<usize>().prop_map(Edit::Remove),
        any::<usize>().prop_map(Edit::Duplicate),
    ]
}

fn count(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count).sum(),
        Value::Object(o) => o.values().map(count).sum(),
        _ => 0,
    }
}

/// Apply `e` to the node numbered `*n` (counting down) among the children of `v`.
fn apply(v: &mut Value, n: &mut usize, e: &Edit) -> bool {
    match v {
        Value::Array(a) => {
            for i in 0..a.len() {
                if *n == 0 {
                    match e {
                        Edit::Replace(_, new) => a[i] = new.clone(),
                        Edit::Remove(_) => {
                            a.remove(i);
                        }
                        Edit::Duplicate(_) => a.insert(i, a[i].clone()),
                    }
                    return true;
                }
                *n -= 1;
                if apply(&mut a[i], n, e) {
                    return true;
                }
            }
        }
        Value::Object(o) => {
            let keys: Vec<String> = o.keys().cloned().collect();
            for k in keys {
                if *n == 0 {
                    match e {
                        Edit::Replace(_, new) => {
                            o.insert(k, new.clone());
                        }
                        Edit::Remove(_) | Edit::Duplicate(_) => {
                            o.remove(&k);
                        }
                    }
                    return true;
                }
                *n -= 1;
                if let Some(child) = o.get_mut(&k)
                    && apply(child, n, e)
                {
                    return true;
                }
            }
        }
        _ => {}
    }
    false
}

/// What `migralab report` does with a trace: load it and, when it loads, summarise it.
fn load(text: &str) -> Result<(), TestCaseError> {
    match Trace::from_json(text) {
        Ok(trace) => {
            let summary = RunSummary::of(&trace);
            prop_assert!(!summary.outcome.status.is_empty());
        }
        Err(e) => prop_assert!(!e.to_string().is_empty()),
    }
    Ok(())
}

proptest! {
    // Seeds and rates: each case simulates a small migration (a few ms).
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn every_simulated_trace_reads_back_equal(seed in any::<u64>(), rate in 0.0..300.0f64) {
        let trace = Simulator::run(scenario(seed, rate));
        let back = Trace::from_json(&trace.to_json().unwrap()).unwrap();
        prop_assert_eq!(back, trace);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_is_a_trace_or_an_error(text in prop_oneof![
        any::<String>(),
        "[{}\\[\\]\",:0-9a-z_ .-]{0,200}",
    ]) {
        load(&text)?;
    }

    #[test]
    fn mutated_traces_are_a_trace_or_an_error(
        which in 0..2usize,
        edits in prop::collection::vec(edit(), 1..5),
        cut in prop::option::of(any::<prop::sample::Index>()),
    ) {
        let mut doc: Value = serde_json::from_str(&traces()[which]).unwrap();
        for e in &edits {
            let (Edit::Replace(i, _) | Edit::Remove(i) | Edit::Duplicate(i)) = e;
            let mut n = i % count(&doc).max(1);
            apply(&mut doc, &mut n, e);
        }
        let mut text = doc.to_string();
        if let Some(cut) = cut {
            let mut at = cut.index(text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            text.truncate(at);
        }
        load(&text)?;
    }
}
