//! The `cachebust` command: a thin shell over the library.
//!
//! Exit codes: 0 success, 1 findings of `--check` or `--strict`, 2 errors (a bad manifest or
//! flag, an unreadable or unwritable file). A bad manifest or flag is reported before any
//! file is touched; a bad file is reported at the end, after the others are done, and the
//! summary counts none of its references (it was left as it was).

mod args;
mod cascade;
mod client;
mod copies;
mod files;
mod manifests;
mod proxy;
mod purge;
mod rewrite;
mod settings;
mod small;
mod stream;
mod verify;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match settings::with_settings(std::env::args_os().collect()) {
        Ok(argv) => args::Cli::parse_from(argv),
        Err(error) => {
            eprintln!("cachebust: error: {error:#}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        args::Command::Rewrite(args) => rewrite::run(args),
        args::Command::Manifest(args) => small::manifest(args),
        args::Command::Url(args) => small::url(args),
        args::Command::Proxy(args) => proxy::run(args),
        args::Command::Diff(args) => purge::diff(args),
        args::Command::Purge(args) => purge::purge(args),
        args::Command::Token(args) => purge::token(args),
        args::Command::Verify(args) => verify::run(args),
    };
    result.unwrap_or_else(|error| {
        eprintln!("cachebust: error: {error:#}");
        ExitCode::from(2)
    })
}
