#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| depot::fuzzing::kafka::kafka_batches(data));
