//! (filled in below)

use super::dispatch::Api;

pub const APIS: &[Api] = &[];
