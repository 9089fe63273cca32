//! End-to-end tests of the `obc` binary: each test runs the real executable in its own temporary
//! directory with its own database, on the worked example of `shared/examples/` or on files
//! written by the test.

mod acceptance;
mod bad_input;
mod browser;
mod closing;
mod demo;
mod exhibit;
mod export;
mod help;
mod idempotency;
mod ledger;
mod lint;
mod nwea_samples;
mod postgres;
mod progress;
mod review;
mod session_checks;
mod sessions_by_subject;
mod simulate;
mod state_scale;
mod support;
mod target;
mod web_consoles;
mod web_drafts;
mod web_http;
mod web_memory;
mod web_monitoring;
mod web_statements;
mod web_support;
