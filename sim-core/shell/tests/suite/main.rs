//! The lab shell's integration tests, one binary: the shipped scenarios (`shell`) and arbitrary
//! input (`shell_fuzz`).

mod shell;
mod shell_fuzz;
