//! The model's integration tests, one binary: the pre-copy engine's behaviour.

mod behaviour;
