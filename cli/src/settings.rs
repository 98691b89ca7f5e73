//! `cachebust.toml`: the flags of each command kept in a file, found in the current
//! directory or given with `--config FILE`. A table per command holds its flags by their
//! long names; flags given on the command line win (a repeatable flag adds to the file's):
//!
//! ```toml
//! [rewrite]
//! manifest = ["versions.json"]
//! base-url = "https://www.example.com/"
//! attr = ["*:data-bg:url", "div:data-background"]
//! strict = true
//!
//! [proxy]
//! upstream = "http://127.0.0.1:3000"
//! attr = ["*:data-bg:url"]
//! ```
//!
//! The file's flags go in right after the command's name, so the command line's come
//! later: clap takes the last value of a flag given twice.

use crate::args::Cli;
use anyhow::{Context, Result, bail};
use clap::CommandFactory;
use std::ffi::OsString;
use std::path::PathBuf;

/// The file looked for when `--config` is not given.
pub const DEFAULT: &str = "cachebust.toml";

/// `args` with the settings file's flags for the command put in.
pub fn with_settings(args: Vec<OsString>) -> Result<Vec<OsString>> {
    let (file, explicit) = match config_flag(&args) {
        Some(path) => (path, true),
        None => (PathBuf::from(DEFAULT), false),
    };
    if !explicit && !file.is_file() {
        return Ok(args);
    }
    let text =
        std::fs::read_to_string(&file).with_context(|| format!("--config {}", file.display()))?;
    let table: toml::Table =
        toml::from_str(&text).with_context(|| format!("{}: not valid TOML", file.display()))?;
    let cli = Cli::command();
    let Some((at, name)) = command_position(&args, &cli) else {
        return Ok(args);
    };
    for key in table.keys() {
        if cli.find_subcommand(key).is_none() {
            bail!("{}: [{key}] is not a command", file.display());
        }
    }
    let Some(settings) = table.get(&name) else {
        return Ok(args);
    };
    let Some(settings) = settings.as_table() else {
        bail!("{}: {name} must be a table ([{name}])", file.display());
    };
    let command = cli.find_subcommand(&name).expect("found above");
    let mut flags = Vec::new();
    for (key, value) in settings {
        let known = command
            .get_arguments()
            .any(|arg| arg.get_long() == Some(key.as_str()));
        if !known || key == "config" {
            bail!(
                "{}: [{name}] {key}: `cachebust {name}` has no flag --{key}",
                file.display()
            );
        }
        let flag = OsString::from(format!("--{key}"));
        let mut push = |value: &toml::Value| -> Result<()> {
            match value {
                toml::Value::Boolean(true) => flags.push(flag.clone()),
                toml::Value::Boolean(false) => {}
                toml::Value::String(s) => flags.extend([flag.clone(), OsString::from(s)]),
                toml::Value::Integer(n) => flags.extend([flag.clone(), n.to_string().into()]),
                toml::Value::Float(n) => flags.extend([flag.clone(), n.to_string().into()]),
                _ => bail!(
                    "{}: [{name}] {key}: a string, number or boolean is needed",
                    file.display()
                ),
            }
            Ok(())
        };
        match value {
            toml::Value::Array(values) => values.iter().try_for_each(&mut push)?,
            value => push(value)?,
        }
    }
    let mut out = args;
    out.splice(at + 1..at + 1, flags);
    Ok(out)
}

/// `--config FILE` or `--config=FILE` among `args`.
fn config_flag(args: &[OsString]) -> Option<PathBuf> {
    args.iter().enumerate().find_map(|(n, arg)| {
        let arg = arg.to_str()?;
        if arg == "--config" {
            args.get(n + 1).map(PathBuf::from)
        } else {
            arg.strip_prefix("--config=").map(PathBuf::from)
        }
    })
}

/// Where the command's name is in `args`, and the name.
fn command_position(args: &[OsString], cli: &clap::Command) -> Option<(usize, String)> {
    let mut skip_next = false;
    for (n, arg) in args.iter().enumerate().skip(1) {
        if skip_next {
            skip_next = false;
            continue;
        }
        let arg = arg.to_str()?;
        if arg == "--config" {
            skip_next = true;
            continue;
        }
        if arg.starts_with('-') {
            continue;
        }
        return cli.find_subcommand(arg).map(|_| (n, arg.to_owned()));
    }
    None
}
