//! What `cargo xtask` needs from the machine, checked up front: one message per missing piece,
//! saying what is missing, why it is needed and how to get it (README, "Prerequisites").
//!
//! The probes are quiet (their output is read, never shown); [`problems`] turns what they found into
//! the messages, so the wording is tested without touching the machine.

use std::path::Path;
use std::process::{Command, Stdio};

/// Debian's Chromium, the browser the page tests drive (see `web.rs`).
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// What a command needs.
#[derive(Clone, Copy, Debug, Default)]
pub struct Needs {
    /// Node and npm (wrangler, Miniflare, wasm-opt, the Node SDK).
    pub node: bool,
    /// python3 with `venv` (the Python SDK and tiktoken, in a venv under the cache folder).
    pub python: bool,
    /// Chromium at [`CHROMIUM`] (the page tests).
    pub chromium: bool,
}

/// What the probes found on this machine.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Found {
    /// `rustup` runs.
    pub rustup: bool,
    /// Node's major version, when `node --version` runs.
    pub node_major: Option<u32>,
    /// `npm --version` runs.
    pub npm: bool,
    /// `python3 --version` runs.
    pub python3: bool,
    /// `python3 -c "import venv, ensurepip"` succeeds (Debian splits these into `python3-venv`).
    pub venv: bool,
    /// [`CHROMIUM`] exists.
    pub chromium: bool,
    /// `apt-get` exists and we are root, so Chromium can be installed for the user.
    pub apt_as_root: bool,
}

/// The oldest Node that works with the pinned npm packages, and the one they ask for.
const NODE_MIN: u32 = 20;
const NODE_WANTED: u32 = 22;

/// Probes the machine, quietly.
pub fn probe(needs: Needs) -> Found {
    let runs = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let node_major = needs
        .node
        .then(|| {
            Command::new("node")
                .arg("--version")
                .stderr(Stdio::null())
                .output()
                .ok()
                .filter(|o| o.status.success())
                .and_then(|o| node_major(&String::from_utf8_lossy(&o.stdout)))
        })
        .flatten();
    let python3 = needs.python && runs("python3", &["--version"]);
    Found {
        rustup: runs("rustup", &["--version"]),
        node_major,
        npm: needs.node && runs("npm", &["--version"]),
        python3,
        venv: python3 && runs("python3", &["-c", "import venv, ensurepip"]),
        chromium: Path::new(CHROMIUM).exists(),
        apt_as_root: Path::new("/usr/bin/apt-get").exists() && is_root(),
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `v22.12.0` → 22.
pub fn node_major(version: &str) -> Option<u32> {
    version
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
}

/// The messages for what is missing (errors), and notes for what works but differs from the
/// recommended set-up.
pub fn problems(needs: Needs, found: &Found) -> (Vec<String>, Vec<String>) {
    let mut missing = Vec::new();
    let mut notes = Vec::new();
    if !found.rustup {
        missing.push(
            "rustup is missing: the build adds the wasm targets (wasm32-unknown-unknown, \
             wasm32v1-none) with it. Install Rust with rustup: https://rustup.rs"
                .to_owned(),
        );
    }
    if needs.node {
        match found.node_major {
            None => missing.push(format!(
                "node is missing: wrangler, Miniflare and wasm-opt run on Node. Install Node \
                 {NODE_WANTED} (https://nodejs.org, or your distribution's nodejs package if it is \
                 {NODE_MIN} or newer)"
            )),
            Some(major) if major < NODE_MIN => missing.push(format!(
                "node {major} is too old: the pinned wrangler needs Node {NODE_MIN} or newer \
                 ({NODE_WANTED} recommended). Install Node {NODE_WANTED} from https://nodejs.org"
            )),
            Some(major) if major < NODE_WANTED => notes.push(format!(
                "node {major}: works with the pinned packages (wrangler 4.86 is the last to accept \
                 Node 20); Miniflare declares Node >= {NODE_WANTED}, so npm would warn EBADENGINE \
                 (silenced). Node {NODE_WANTED} is recommended"
            )),
            Some(_) => {}
        }
        if found.node_major.is_some() && !found.npm {
            missing.push(
                "npm is missing: the pinned Node packages are installed with `npm ci`. It comes \
                 with Node (Debian: apt-get install npm)"
                    .to_owned(),
            );
        }
    }
    if needs.python {
        if !found.python3 {
            missing.push(
                "python3 is missing: the official Python SDK (end-to-end tests) and tiktoken \
                 (tokenizer check) run in a venv under ~/.cache/airlock. Install Python 3 \
                 (Debian: apt-get install python3 python3-venv)"
                    .to_owned(),
            );
        } else if !found.venv {
            missing.push(
                "python3's venv module is missing: the Python test clients are installed in a \
                 venv under ~/.cache/airlock, never into the system Python. Debian: apt-get \
                 install python3-venv"
                    .to_owned(),
            );
        }
    }
    if needs.chromium && !found.chromium {
        if found.apt_as_root {
            notes.push(format!(
                "{CHROMIUM} is missing: the page tests drive it; it will be installed with \
                 apt-get (about 30 s)"
            ));
        } else {
            missing.push(format!(
                "{CHROMIUM} is missing: the page tests drive Debian's Chromium headless \
                 (Playwright's own download is not used). Install it: sudo apt-get install chromium"
            ));
        }
    }
    (missing, notes)
}

/// Checks the machine for `needs`: prints the notes, and fails with every missing piece at once.
pub fn check(needs: Needs) -> Result<(), String> {
    let (missing, notes) = problems(needs, &probe(needs));
    for note in &notes {
        eprintln!("prerequisites: {note}");
    }
    if missing.is_empty() {
        return Ok(());
    }
    let mut text = String::from("missing prerequisites (see README, \"Prerequisites\"):");
    for m in &missing {
        text.push_str("\n  - ");
        text.push_str(m);
    }
    Err(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: Needs = Needs {
        node: true,
        python: true,
        chromium: true,
    };

    fn good() -> Found {
        Found {
            rustup: true,
            node_major: Some(22),
            npm: true,
            python3: true,
            venv: true,
            chromium: true,
            apt_as_root: false,
        }
    }

    #[test]
    fn a_complete_machine_has_nothing_to_say() {
        assert_eq!(problems(ALL, &good()), (vec![], vec![]));
    }

    #[test]
    fn each_missing_piece_is_one_message_with_what_why_and_how() {
        let found = Found {
            rustup: false,
            node_major: None,
            npm: false,
            python3: false,
            venv: false,
            chromium: false,
            apt_as_root: false,
        };
        let (missing, notes) = problems(ALL, &found);
        assert!(notes.is_empty());
        assert_eq!(missing.len(), 4, "{missing:#?}");
        for (m, (what, how)) in missing.iter().zip([
            ("rustup", "rustup.rs"),
            ("node", "nodejs.org"),
            ("python3", "apt-get install python3 python3-venv"),
            ("/usr/bin/chromium", "apt-get install chromium"),
        ]) {
            assert!(m.starts_with(what), "{m}");
            assert!(m.contains(": "), "why: {m}");
            assert!(m.contains(how), "how: {m}");
        }
    }

    #[test]
    fn only_what_the_command_needs_is_checked() {
        let found = Found {
            node_major: None,
            python3: false,
            chromium: false,
            ..good()
        };
        let (missing, _) = problems(Needs::default(), &found);
        assert!(missing.is_empty(), "{missing:?}");
    }

    #[test]
    fn node_20_works_with_a_note_and_18_is_refused() {
        let (missing, notes) = problems(
            ALL,
            &Found {
                node_major: Some(20),
                ..good()
            },
        );
        assert!(missing.is_empty());
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("EBADENGINE"), "{}", notes[0]);
        let (missing, _) = problems(
            ALL,
            &Found {
                node_major: Some(18),
                ..good()
            },
        );
        assert_eq!(missing.len(), 1);
        assert!(
            missing[0].starts_with("node 18 is too old"),
            "{}",
            missing[0]
        );
    }

    #[test]
    fn venv_and_npm_are_named_on_their_own() {
        let (missing, _) = problems(
            ALL,
            &Found {
                venv: false,
                npm: false,
                ..good()
            },
        );
        assert_eq!(missing.len(), 2, "{missing:#?}");
        assert!(missing[0].starts_with("npm is missing"));
        assert!(missing[1].contains("apt-get install python3-venv"));
    }

    #[test]
    fn chromium_is_a_note_when_apt_can_install_it() {
        let found = Found {
            chromium: false,
            apt_as_root: true,
            ..good()
        };
        let (missing, notes) = problems(ALL, &found);
        assert!(missing.is_empty());
        assert!(notes[0].contains("installed with apt-get"));
    }

    #[test]
    fn node_versions_parse() {
        assert_eq!(node_major("v22.12.0\n"), Some(22));
        assert_eq!(node_major("v20.20.2"), Some(20));
        assert_eq!(node_major("garbage"), None);
    }
}
