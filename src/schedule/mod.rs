//! Scheduled prompts: the planner decides what is due, the outbox holds it, the worker sends it.

pub mod planner;
pub mod render;
pub mod worker;
