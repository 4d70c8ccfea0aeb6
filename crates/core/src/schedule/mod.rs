//! Scheduled prompts: the planner decides what is due, the outbox holds it, the worker sends it.

pub mod chart;
pub mod heatmap;
pub mod planner;
pub mod render;
pub mod review;
pub mod scorecard;
pub mod worker;
