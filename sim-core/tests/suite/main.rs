//! The model's integration tests, one binary: the pre-copy engine's behaviour, and the
//! terminal escaper and shell quoter.

mod behaviour;
mod term;
