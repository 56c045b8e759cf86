//! The model's integration tests, one binary: the pre-copy engine's behaviour, and the
//! terminal escaper and shell quoter, the trace loader under random and mutated input, and the
//! scenario loader, validator and simulator under the cost budget.

mod behaviour;
mod budget;
mod term;
mod trace_loader;
