//! The backend conformance suite (tests/common/conformance.rs) against the depot backends: the
//! embedded engine, and a real `depot serve` on 127.0.0.1:0 through the remote backend. The same
//! checks run against Kafka, NATS and Redis in tests/engine_*.rs.

#[macro_use]
mod common;

use common::*;

mod embedded {
    use super::*;
    conformance_suite!("depot", Harness::embedded());
}

mod remote {
    use super::*;
    conformance_suite!("depot", Harness::remote().await);
}
