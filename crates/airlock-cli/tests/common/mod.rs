//! Helpers shared by the CLI's integration tests: run the built `airlock` binary.
#![allow(dead_code)] // each test file uses what it needs

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

/// Runs `airlock ARGS` with `stdin` on standard input and waits for it.
pub fn airlock(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("airlock runs");
    let written = child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin.as_bytes());
    // A usage error exits before reading standard input; the closed pipe is not a test failure.
    if let Err(e) = written {
        assert_eq!(
            e.kind(),
            std::io::ErrorKind::BrokenPipe,
            "writing stdin: {e}"
        );
    }
    child.wait_with_output().expect("airlock finishes")
}

/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
