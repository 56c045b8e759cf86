//! The cross-crate tests, one binary: every scenario file, golden traces, the prerequisites'
//! scenarios, the lesson topics' scenarios, properties of random scenarios, the glossary over
//! every shipped text, and the links of the README and the book, and the question-bank loader
//! under random and mutated input.
//! One binary (not one per file) because each links the whole workspace: on CI's two cores the
//! links, not the tests, took the time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod book;
mod determinism;
mod glossary;
mod loaders;
mod prereq;
mod properties;
mod scenarios;
mod topics;
