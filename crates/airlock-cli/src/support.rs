//! `airlock support-bundle` and `airlock redact`.

use std::io::Write;

use airlock_rules::bundle::{BundleContext, support_bundle};
use airlock_rules::redact::{RedactOptions, redact_with};

use crate::input;

const BUNDLE_USAGE: &str =
    "usage: airlock support-bundle [FILE|-] [--endpoint E] [--model M] [--time T]
                             [--client C] [--attempts N] [--tried TEXT]... [--ids]

Finds the OpenAI error in FILE (or standard input) and prints a short report for OpenAI support,
with API keys and tokens masked. No prompt text is included.

  --endpoint E    the endpoint called, e.g. \"POST /v1/chat/completions\"
  --model M       the model requested
  --time T        when it failed, with the time zone, e.g. 2024-05-01T12:34:56Z
  --client C      the client and version, e.g. \"openai-python 1.51.0\"
  --attempts N    how many times the request was sent
  --tried TEXT    something already tried (repeat for more)
  --ids           also mask organization and project IDs

Exit status: 0 when an error was found, 1 when none was, 2 on a usage problem.
";

const REDACT_USAGE: &str = "usage: airlock redact [FILE|-] [--ids]

Prints FILE (or standard input) with API keys, bearer tokens and other secrets masked.

  --ids           also mask organization (org-…) and project (proj_…) IDs

Exit status: 0, or 2 on a usage problem.
";

/// Parsed command line: the input file and the named options' values.
#[derive(Default)]
struct Args {
    file: Option<String>,
    values: Vec<(&'static str, String)>,
    ids: bool,
    help: bool,
}

/// Parses `args` with the value-taking options `with_value`; `Err` is a usage message.
fn parse(args: &[String], with_value: &[&'static str]) -> Result<Args, String> {
    let mut parsed = Args::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "-h" || arg == "--help" {
            parsed.help = true;
        } else if arg == "--ids" {
            parsed.ids = true;
        } else if let Some(name) = arg.strip_prefix("--") {
            let (name, inline) = match name.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (name, None),
            };
            let Some(known) = with_value.iter().find(|k| **k == name) else {
                return Err(format!("unknown option `{arg}`"));
            };
            let value = match inline {
                Some(v) => v,
                None => it
                    .next()
                    .cloned()
                    .ok_or_else(|| format!("`--{name}` needs a value"))?,
            };
            parsed.values.push((known, value));
        } else if arg.starts_with('-') && arg != "-" {
            return Err(format!("unknown option `{arg}`"));
        } else if parsed.file.is_some() {
            return Err(format!("more than one input: `{arg}`"));
        } else {
            parsed.file = Some(arg.clone());
        }
    }
    Ok(parsed)
}

impl Args {
    fn last(&self, name: &str) -> Option<String> {
        self.values
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.values
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

fn usage_error(command: &str, message: &str, usage: &str) -> u8 {
    eprintln!("airlock {command}: {message}\n\n{usage}");
    2
}

fn print(text: &str) -> u8 {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => 0,
        // A closed pipe (`| head`) is not an error worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("airlock: writing output: {e}");
            2
        }
    }
}

/// `airlock support-bundle [FILE|-] [--endpoint E] [--model M] [--time T] …`
pub fn run_bundle(args: &[String]) -> u8 {
    let command = "support-bundle";
    let a = match parse(
        args,
        &["endpoint", "model", "time", "client", "attempts", "tried"],
    ) {
        Ok(a) => a,
        Err(e) => return usage_error(command, &e, BUNDLE_USAGE),
    };
    if a.help {
        print!("{BUNDLE_USAGE}");
        return 0;
    }
    let mut context = BundleContext::default();
    context.endpoint = a.last("endpoint");
    context.model = a.last("model");
    context.timestamp = a.last("time");
    context.client = a.last("client");
    context.tried = a.all("tried");
    context.hide_ids = a.ids;
    if let Some(n) = a.last("attempts") {
        match n.trim().parse::<u32>() {
            Ok(n) => context.attempts = Some(n),
            Err(_) => {
                return usage_error(
                    command,
                    &format!("`--attempts` needs a whole number, not `{n}`"),
                    BUNDLE_USAGE,
                );
            }
        }
    }
    let text = match input::read_text(a.file.as_deref()) {
        Ok(t) => t,
        Err(e) => return usage_error(command, &e, BUNDLE_USAGE),
    };
    let Some(diagnosis) = airlock_rules::explain(&text).diagnosis else {
        eprintln!("airlock support-bundle: no OpenAI error found in the input");
        return 1;
    };
    print(&support_bundle(&diagnosis, &context))
}

/// `airlock redact [FILE|-] [--ids]`
pub fn run_redact(args: &[String]) -> u8 {
    let command = "redact";
    let a = match parse(args, &[]) {
        Ok(a) => a,
        Err(e) => return usage_error(command, &e, REDACT_USAGE),
    };
    if a.help {
        print!("{REDACT_USAGE}");
        return 0;
    }
    let text = match input::read_text(a.file.as_deref()) {
        Ok(t) => t,
        Err(e) => return usage_error(command, &e, REDACT_USAGE),
    };
    let options = if a.ids {
        RedactOptions::with_ids()
    } else {
        RedactOptions::keys()
    };
    print(&redact_with(&text, &options))
}
