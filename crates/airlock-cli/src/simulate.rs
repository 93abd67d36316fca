//! `airlock simulate`: the catalogue of failures the worker's simulate mode can send.
//!
//! ```text
//! airlock simulate --list [--json]     every name: status, category, what the SDKs raise
//! airlock simulate 'NAME[;after=k][;events=N][;ms=T]'   the exact answer for one value
//! ```

use crate::report;
use airlock_rules::simulate::{self, CATALOGUE, Kind, StreamApi, client_sees};

const USAGE: &str = "usage: airlock simulate --list [--json] | airlock simulate 'NAME[;after=k][;events=N][;ms=T]' [--responses]";

pub fn run(args: &[String]) -> u8 {
    let json_out = args.iter().any(|a| a == "--json");
    let responses = args.iter().any(|a| a == "--responses");
    let list = args.iter().any(|a| a == "--list");
    let values: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    if let Some(bad) = args
        .iter()
        .find(|a| a.starts_with("--") && !matches!(a.as_str(), "--json" | "--list" | "--responses"))
    {
        eprintln!("airlock simulate: unknown option {bad}\n{USAGE}");
        return 2;
    }
    match (list, values.as_slice()) {
        (true, []) => {
            print_list(json_out);
            0
        }
        (false, [value]) => show(value, responses),
        _ => {
            eprintln!("{USAGE}");
            2
        }
    }
}

fn print_list(json_out: bool) {
    if json_out {
        let failures = CATALOGUE
            .iter()
            .map(|f| {
                let sees = client_sees(f);
                report::SimulatedFailure {
                    name: f.name.to_owned(),
                    kind: match f.kind {
                        Kind::Response { .. } => report::SimulatedKind::Response,
                        Kind::Stall => report::SimulatedKind::Stall,
                        Kind::Connection => report::SimulatedKind::Connection,
                        Kind::Stream(_) => report::SimulatedKind::Stream,
                    },
                    category: f.category,
                    status: sees.status,
                    python: sees.python,
                    node: sees.node,
                    sdk_retries: sees.retried,
                    default_ms: f.default_ms,
                    summary: f.summary.to_owned(),
                    source: f.source.to_owned(),
                }
            })
            .collect();
        let list = report::SimulateList {
            header: simulate_header(),
            bounds: report::SimulateBounds {
                header_bytes: simulate::MAX_HEADER_BYTES,
                after: simulate::MAX_AFTER,
                events: simulate::MAX_EVENTS,
                ms: simulate::MAX_MS,
            },
            failures,
        };
        println!("{}", report::to_json(&list, true));
        return;
    }
    println!("{}", simulate_header());
    println!(
        "{:<18} {:>6}  {:<15} {:<32} {:<6}  what",
        "name", "status", "category", "Python SDK raises", "retry"
    );
    for f in CATALOGUE {
        let sees = client_sees(f);
        let status = sees
            .status
            .map_or_else(|| "-".to_owned(), |s| s.to_string());
        let python = sees.python.as_deref().unwrap_or("(an event, not raised)");
        println!(
            "{:<18} {:>6}  {:<15} {:<32} {:<6}  {}",
            f.name,
            status,
            f.category.as_str(),
            python,
            if sees.retried { "yes" } else { "no" },
            f.summary
        );
    }
}

fn simulate_header() -> String {
    format!(
        "x-airlock-simulate: NAME[;after=k][;events=N][;ms=T] (k <= {}, N <= {}, T <= {} ms; worker setting SIMULATE = \"on\")",
        simulate::MAX_AFTER,
        simulate::MAX_EVENTS,
        simulate::MAX_MS
    )
}

fn show(value: &str, responses: bool) -> u8 {
    let spec = match simulate::parse(value) {
        Ok(spec) => spec,
        Err(why) => {
            eprintln!("airlock simulate: {why}");
            return 1;
        }
    };
    match spec.failure.kind {
        Kind::Response { status, .. } => {
            println!("HTTP/1.1 {status}");
            for (name, value) in simulate::headers(&spec, "req_simulate") {
                println!("{name}: {value}");
            }
            println!();
            print!("{}", String::from_utf8_lossy(&simulate::body(&spec)));
        }
        Kind::Stream(_) => {
            let api = if responses {
                StreamApi::Responses
            } else {
                StreamApi::Chat
            };
            match simulate::stream_body(
                &spec,
                api,
                "simulate",
                0,
                "The upstream connection closed before the response was complete.",
            ) {
                Ok(bytes) => print!("{}", String::from_utf8_lossy(&bytes)),
                Err(why) => {
                    eprintln!("airlock simulate: {why}");
                    return 1;
                }
            }
        }
        Kind::Stall => println!("{}", spec.failure.summary),
        Kind::Connection => {
            println!("{}", spec.failure.summary);
            println!(
                "(the 502 carries {}: {:?})",
                simulate::RESET_HEADER,
                simulate::RESET_VALUE
            );
        }
    }
    0
}
