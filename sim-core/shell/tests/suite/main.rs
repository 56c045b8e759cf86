//! The lab shell's integration tests, one binary: the shipped scenarios (`shell`), the lesson
//! topics' scenarios and options (`topics`) and arbitrary input (`shell_fuzz`).

#[macro_use]
mod shell;
mod shell_fuzz;
mod topics;
