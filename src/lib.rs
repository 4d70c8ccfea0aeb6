//! The `career-circle` binary's library: the command line, wiring settings to the core and the adapters.

pub mod cli;
