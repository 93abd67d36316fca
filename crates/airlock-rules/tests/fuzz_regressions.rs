//! Replays every input under `fuzz/regressions/<target>/` through that target's property
//! (`fuzz/src/props.rs`, the same code the libFuzzer targets run), on stable, as part of the normal
//! test suite. A crash or timeout the fuzzer found is kept there once fixed (see `fuzz/README.md`).

use core::time::Duration;
use std::path::PathBuf;
use std::time::Instant;

#[allow(dead_code, clippy::all)]
#[path = "../../../fuzz/src/props.rs"]
mod props;

/// Far above any input's time in a normal run: only a hang, not a slow machine, fails.
const SLOW: Duration = Duration::from_secs(60);

#[test]
fn every_committed_fuzz_input_passes_its_property() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions");
    let mut ran = 0;
    let mut failures = Vec::new();
    for target in props::TARGETS {
        let dir = root.join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        paths.sort();
        for path in paths.into_iter().filter(|p| p.is_file()) {
            let data = std::fs::read(&path).unwrap();
            let start = Instant::now();
            let result = std::panic::catch_unwind(|| props::run(target, &data));
            let took = start.elapsed();
            ran += 1;
            let name = format!("{target}/{}", path.file_name().unwrap().to_string_lossy());
            println!("{name}: {} bytes, {took:?}", data.len());
            if result.is_err() {
                failures.push(format!("{name}: property failed (see the panic above)"));
            } else if took > SLOW {
                failures.push(format!("{name}: took {took:?}"));
            }
        }
    }
    assert!(ran > 0, "no regression inputs under {}", root.display());
    assert!(failures.is_empty(), "{failures:#?}");
}
