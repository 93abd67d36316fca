//! `airlock check-output`: a model's answer against what its request asked for (a `json_schema`
//! format, function tools), with the rules crate's `output` module.
//!
//! ```text
//! airlock check-output REQUEST.json RESPONSE [--endpoint E] [--json]
//! ```
//! RESPONSE is the answer's JSON body, or the raw text of a streamed answer (server-sent events,
//! assembled as the worker does). Exit 0 when every output is valid; 1 when one is invalid, the
//! answer was truncated or refused, or it could not be checked; 2 on a usage problem.

use airlock_rules::output::{Expectation, OutputReport, Status, StreamOutput};
use serde_json::Value;

use crate::input::read_bytes;

const USAGE: &str = "usage: airlock check-output REQUEST.json RESPONSE [--endpoint E] [--json]";

pub fn run(args: &[String]) -> u8 {
    let mut files = Vec::new();
    let mut endpoint = None;
    let mut json = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--json" => json = true,
            "--endpoint" => match it.next() {
                Some(e) => endpoint = Some(e.clone()),
                None => return usage("--endpoint needs a value"),
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return 0;
            }
            s if s.starts_with("--") => return usage(&format!("unknown option {s}")),
            s => files.push(s.to_string()),
        }
    }
    let [request, response] = files.as_slice() else {
        return usage("give REQUEST.json and RESPONSE");
    };
    let (request, response) = match (read_bytes(Some(request)), read_bytes(Some(response))) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return usage(&e),
    };
    let Ok(request) = serde_json::from_slice::<Value>(&request) else {
        return usage("REQUEST is not JSON");
    };
    let endpoint = endpoint.unwrap_or_else(|| {
        if request.get("messages").is_some() {
            String::from("/v1/chat/completions")
        } else {
            String::from("/v1/responses")
        }
    });
    let Some(expectation) = Expectation::from_request(&endpoint, &request) else {
        return usage(
            "the request asks for no json_schema format and gives no function tools with parameters: nothing to check",
        );
    };
    let trimmed = response.trim_ascii_start();
    let report = if trimmed.first() == Some(&b'{') {
        expectation.check_bytes(trimmed)
    } else {
        let mut stream = StreamOutput::new();
        stream.push(&response);
        stream.finish(&expectation)
    };
    print(&report, json);
    u8::from(report.status != Status::Valid)
}

fn print(report: &OutputReport, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(report).unwrap_or_default()
        );
        return;
    }
    print!("{}", report.status.as_str());
    if let Some(p) = &report.path {
        print!(" at {p}");
    }
    if let Some(k) = &report.keyword {
        print!(" ({k})");
    }
    if let Some(r) = report.reason {
        print!(": {r}");
    }
    println!();
    if let Some(m) = &report.message {
        println!("  {m}");
    }
}

fn usage(message: &str) -> u8 {
    eprintln!("airlock check-output: {message}\n{USAGE}");
    2
}
