//! The cross-crate tests, one binary: every scenario file, golden traces, the prerequisites'
//! scenarios, properties of random scenarios, and the glossary over every shipped text.
//! One binary (not one per file) because each links the whole workspace: on CI's two cores the
//! links, not the tests, took the time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod determinism;
mod glossary;
mod prereq;
mod properties;
mod scenarios;
