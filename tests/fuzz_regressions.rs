//! The fuzz targets' inputs in the normal test suite: every seed in `fuzz/corpus/<target>/` and
//! every input that once crashed a target (`fuzz/regressions/<target>/`, named after what it
//! found) goes through the same hook the fuzzer calls (`depot::fuzzing`), which panics on a
//! broken promise. So a finding stays fixed without nightly or cargo-fuzz.

use std::path::Path;

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut out = Vec::new();
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else { continue };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_file() {
                out.push((
                    format!("{dir}/{target}/{}", e.file_name().to_string_lossy()),
                    std::fs::read(&path).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

fn replay(target: &str, hook: fn(&[u8]), at_least: usize) {
    let all = inputs(target);
    assert!(all.len() >= at_least, "{target}: {} inputs, expected at least {at_least}", all.len());
    for (name, data) in all {
        let r = std::panic::catch_unwind(|| hook(&data));
        assert!(r.is_ok(), "{name} fails the {target} target again");
    }
}

#[test]
fn batch_decode_inputs() {
    replay("batch_decode", depot::fuzzing::text::batch_decode, 3);
}

#[test]
fn kafka_batches_inputs() {
    replay("kafka_batches", depot::fuzzing::kafka::kafka_batches, 3);
}

#[test]
fn recovery_inputs() {
    replay("recovery", depot::fuzzing::disk::recovery, 4);
}

#[test]
fn journal_inputs() {
    replay("journal", depot::fuzzing::disk::journal, 3);
}

#[test]
fn http_bodies_inputs() {
    replay("http_bodies", depot::fuzzing::http::http_bodies, 10);
}

#[test]
fn toml_config_inputs() {
    replay("toml_config", depot::fuzzing::text::toml_config, 5);
}

#[test]
fn console_keys_inputs() {
    replay("console_keys", depot::fuzzing::console::console_keys, 3);
}
