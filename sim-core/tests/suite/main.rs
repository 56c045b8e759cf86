//! The model's integration tests, one binary: the pre-copy engine's behaviour, and the
//! terminal escaper and shell quoter, and the trace loader under random and mutated input.

mod behaviour;
mod term;
mod trace_loader;
