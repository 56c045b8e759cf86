//! The `migralab` binary: everything happens in [`migralab_app::cli`].

use std::process::ExitCode;

fn main() -> ExitCode {
    migralab_app::cli::main_with_args(std::env::args_os())
}
