//! Pure types and rules: no I/O, no async, nothing of the rest of the crate.

pub mod action;
pub mod checkin;
pub mod commitment;
pub mod delivery;
pub mod opportunity;
pub mod period;
pub mod recurrence;
pub mod spec;
pub mod zone;
