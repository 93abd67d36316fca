//! Reading the input named on the command line.
#![allow(dead_code)] // used by the subcommands as they land

use std::io::Read;

/// Reads FILE, or standard input for `-` or no file, as bytes exactly as they are.
pub fn read_bytes(path: Option<&str>) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    match path {
        None | Some("-") => {
            std::io::stdin()
                .read_to_end(&mut buf)
                .map_err(|e| format!("reading stdin: {e}"))?;
        }
        Some(p) => buf = std::fs::read(p).map_err(|e| format!("{p}: {e}"))?,
    }
    Ok(buf)
}

/// Reads FILE or standard input as text, replacing invalid UTF-8.
pub fn read_text(path: Option<&str>) -> Result<String, String> {
    read_bytes(path).map(|b| String::from_utf8_lossy(&b).into_owned())
}
