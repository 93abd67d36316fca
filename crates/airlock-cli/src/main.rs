//! The `airlock` command: the rules crate's judgments in a shell or a CI pipeline.
//!
//! Exit codes: 0 when the command's answer is "found"/"ok", 1 when it is "nothing found"/"rejected",
//! 2 on a usage problem. A closed standard output (`airlock check … | head`) ends the command
//! quietly with 141, as a shell reports a command stopped by `SIGPIPE`, instead of a panic.

mod batch;
mod check;
mod check_output;
mod count;
mod explain;
mod input;
mod report;
mod simulate;
mod support;

use std::process::ExitCode;

const USAGE: &str = "usage: airlock <command> [options]

commands:
  explain [FILE|-] [--json]       diagnose a pasted OpenAI error
  check [FILE|-] --endpoint E     check a request body before sending it
  count [FILE|-] [--model M]      count tokens exactly (--endpoint E for a request body)
  check-output REQUEST RESPONSE   check a model's answer against the request's schemas
  batch <lint|explain|join> …     Batch files
  support-bundle [FILE|-]         a sanitized text for OpenAI support
  redact [FILE|-]                 mask API keys and tokens in text
  simulate --list [--json]        the failures the worker's simulate mode sends
  schemas [NAME]                  the JSON Schemas of the --json outputs and the worker's log
  schemas validate SCHEMA [FILE]  check JSON lines (a log, --json outputs) against a schema
";

/// The exit code of a command that found its standard output closed (128 + `SIGPIPE`).
const CLOSED_STDOUT: i32 = 141;

/// Ends the process quietly when a print found standard output closed: Rust ignores `SIGPIPE`,
/// so `print!` panics with "failed printing to stdout: Broken pipe" instead. Every other panic
/// is reported as before.
fn quiet_on_closed_stdout() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(CLOSED_STDOUT);
        }
        report(info);
    }));
}

fn main() -> ExitCode {
    quiet_on_closed_stdout();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    let code = match command.as_str() {
        "explain" => explain::run(rest),
        "check" => check::run(rest),
        "count" => count::run(rest),
        "check-output" => check_output::run(rest),
        "batch" => batch::run(rest),
        "support-bundle" => support::run_bundle(rest),
        "redact" => support::run_redact(rest),
        "simulate" => simulate::run(rest),
        "schemas" => report::run(rest),
        "-h" | "--help" | "help" => {
            print!("{USAGE}");
            0
        }
        other => {
            eprintln!("airlock: unknown command `{other}`\n{USAGE}");
            2
        }
    };
    ExitCode::from(code)
}
