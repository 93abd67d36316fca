//! `airlock count`: exact token counts of a text, or of a request body broken down.
//!
//! ```text
//! airlock count [FILE|-] [--encoding o200k_base|cl100k_base | --model M] [--endpoint E]
//!               [--context-window N] [--json] [--ids]
//! ```
//! Without `--endpoint` the input is plain text: its bytes exactly as they are (invalid UTF-8
//! replaced, as tiktoken sees it). With `--endpoint` it is a request body: the input tokens,
//! exact and estimated parts, and the budget against the model's limits (`--model`, else the
//! body's `model`, from the model data; `--context-window` overrides the window). A model whose
//! limits are not known is only counted.

use airlock_rules::tokenizer::request::{Api, Limits, budget, count_request};
use airlock_rules::tokenizer::{Encoding, Tokenizer};

use crate::input::read_bytes;

const USAGE: &str = "usage: airlock count [FILE|-] [--encoding o200k_base|cl100k_base | --model M] [--endpoint E] [--context-window N] [--json] [--ids]";

#[derive(Default)]
struct Opts {
    file: Option<String>,
    encoding: Option<String>,
    model: Option<String>,
    endpoint: Option<String>,
    window: Option<u64>,
    json: bool,
    ids: bool,
}

fn parse(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match a.as_str() {
            "--encoding" => o.encoding = Some(value("--encoding")?),
            "--model" => o.model = Some(value("--model")?),
            "--endpoint" => o.endpoint = Some(value("--endpoint")?),
            "--context-window" => {
                let v = value("--context-window")?;
                o.window = Some(v.parse().map_err(|_| format!("bad --context-window {v}"))?);
            }
            "--json" => o.json = true,
            "--ids" => o.ids = true,
            "-h" | "--help" => return Err(String::new()),
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            s if o.file.is_none() => o.file = Some(s.to_string()),
            s => return Err(format!("unexpected argument {s}")),
        }
    }
    if o.encoding.is_some() && o.model.is_some() {
        return Err("give --encoding or --model, not both".into());
    }
    Ok(o)
}

fn encoding(o: &Opts, body_model: Option<&str>) -> Result<Encoding, String> {
    if let Some(e) = &o.encoding {
        return Encoding::from_name(e)
            .ok_or_else(|| format!("unknown encoding {e} (o200k_base or cl100k_base)"));
    }
    match o.model.as_deref().or(body_model) {
        Some(m) => Encoding::for_model(m)
            .ok_or_else(|| format!("no known encoding for model {m}; give --encoding")),
        None => Ok(Encoding::O200kBase),
    }
}

/// Runs `airlock count`; the exit code (0 counted, 1 over the context window, 2 usage).
pub fn run(args: &[String]) -> u8 {
    let o = match parse(args) {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("airlock count: {e}");
            }
            eprintln!("{USAGE}");
            return 2;
        }
    };
    let bytes = match read_bytes(o.file.as_deref()) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("airlock count: {e}");
            return 2;
        }
    };
    match &o.endpoint {
        None => text(&o, &bytes),
        Some(endpoint) => request(&o, endpoint, &bytes),
    }
}

fn text(o: &Opts, bytes: &[u8]) -> u8 {
    let enc = match encoding(o, None) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("airlock count: {e}");
            return 2;
        }
    };
    let ids = Tokenizer::shared(enc).encode_bytes(bytes);
    if o.json {
        let v = crate::report::CountText {
            tokens: ids.len(),
            encoding: enc.as_str().to_owned(),
            bytes: bytes.len(),
            ids: o.ids.then(|| ids.clone()),
        };
        println!("{}", crate::report::to_json(&v, false));
    } else if o.ids {
        let s: Vec<String> = ids.iter().map(u32::to_string).collect();
        println!("{}", s.join(" "));
    } else {
        println!("{} tokens ({enc})", ids.len());
    }
    0
}

fn request(o: &Opts, endpoint: &str, bytes: &[u8]) -> u8 {
    let Some(api) = Api::from_endpoint(endpoint) else {
        eprintln!(
            "airlock count: endpoint {endpoint} is not counted (chat/completions, responses, embeddings)"
        );
        return 2;
    };
    let body: serde_json::Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("airlock count: the request body is not JSON: {e}");
            return 2;
        }
    };
    let enc = match encoding(o, body.get("model").and_then(|m| m.as_str())) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("airlock count: {e}");
            return 2;
        }
    };
    let t = Tokenizer::shared(enc);
    let counted = count_request(t, api, &body);
    let model = o
        .model
        .as_deref()
        .or_else(|| body.get("model").and_then(|m| m.as_str()));
    let limits = match (o.window, model.and_then(Limits::for_model)) {
        (Some(w), Some(l)) => Some(Limits {
            context_window: w,
            output_in_window: true,
            ..l
        }),
        (Some(w), None) => Some(Limits::new(w)),
        (None, l) => l,
    };
    let verdict = limits.map(|l| budget(t, api, &body, &l));
    if o.json {
        let v = crate::report::CountRequest {
            tokens: counted.total(),
            encoding: enc.as_str().to_owned(),
            exact: counted.exact,
            estimated: counted.estimated,
            parts: counted.parts.clone(),
            per_input: (!counted.per_input.is_empty()).then(|| counted.per_input.clone()),
            uncounted: (!counted.uncounted.is_empty()).then(|| counted.uncounted.clone()),
            budget: verdict.as_ref().map(|b| crate::report::CountBudget {
                context_window: b.context_window,
                max_output: limits.and_then(|l| l.max_output),
                output: b.output.as_ref().map(|(n, p)| crate::report::OutputAsked {
                    tokens: *n,
                    param: p.clone(),
                }),
                error: b.error.clone(),
                warning: b.warning.clone(),
            }),
        };
        println!("{}", crate::report::to_json(&v, false));
    } else {
        println!(
            "{} tokens ({enc}): {} exact, {} estimated",
            counted.total(),
            counted.exact,
            counted.estimated
        );
        for p in &counted.parts {
            let how = if p.exact { "" } else { " (estimate)" };
            println!("  {:>8}  {}{how}", p.tokens, p.param);
        }
        for u in &counted.uncounted {
            println!("  {:>8}  {u} (not counted)", "?");
        }
        if let Some(b) = &verdict {
            if let Some(e) = &b.error {
                println!("rejected: {}", e.message);
            } else if let Some(w) = &b.warning {
                println!("warning: may exceed the window: {}", w.message);
            } else if limits.is_some_and(|l| !l.output_in_window) {
                println!("fits in the input limit of {} tokens", b.context_window);
            } else {
                println!("fits in the context window of {} tokens", b.context_window);
            }
        } else if let Some(m) = model {
            println!("no known context window for model {m}; give --context-window to check");
        }
    }
    u8::from(verdict.is_some_and(|b| b.error.is_some()))
}
