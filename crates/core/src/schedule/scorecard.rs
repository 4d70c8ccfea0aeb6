//! A member's scorecard as others may see it: loading it (private metrics left out unless the reader is the owner),
//! and its words: the table over quarters, the one line a review post carries, and the chart's series.

use std::collections::BTreeSet;

use sqlx::PgPool;

use crate::chat::fit::clip;
use crate::chat::text::{Text, bold};
use crate::domain::period::Period;
use crate::domain::scorecard::{Horizon, MetricKind, ValueType, meets};
use crate::schedule::chart::Series;
use crate::spans;
use crate::store::scorecard::{self as store, Metric, MilestoneCheck, Value};

/// Quarters a table or chart shows: the latest ones.
pub const QUARTERS_SHOWN: usize = 8;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Card {
    /// Active metrics, and removed ones that have values (their history stays).
    pub metrics: Vec<Metric>,
    pub values: Vec<Value>,
    pub milestones: Vec<MilestoneCheck>,
}

/// The scorecard of `member_id`; `owner` sees private metrics, everyone else does not.
pub async fn load(pool: &PgPool, member_id: i64, owner: bool) -> anyhow::Result<Card> {
    let values = store::values_of(pool, member_id).await?;
    let metrics = store::metrics_of(pool, member_id, true)
        .await?
        .into_iter()
        .filter(|m| owner || !m.private)
        .filter(|m| m.removed_at.is_none() || values.iter().any(|v| v.metric_id == m.id))
        .collect::<Vec<_>>();
    let values = values
        .into_iter()
        .filter(|v| metrics.iter().any(|m| m.id == v.metric_id))
        .collect();
    Ok(Card {
        metrics,
        values,
        milestones: store::milestones_of(pool, member_id).await?,
    })
}

impl Card {
    pub fn is_empty(&self) -> bool {
        self.values.is_empty() && self.milestones.is_empty()
    }

    pub fn value(&self, metric_id: i64, quarter: Period) -> Option<f64> {
        self.values
            .iter()
            .find(|v| v.metric_id == metric_id && v.quarter == quarter)
            .map(|v| v.value)
    }

    /// The quarters with anything recorded, the latest `QUARTERS_SHOWN`, oldest first.
    pub fn quarters(&self) -> Vec<Period> {
        let all: BTreeSet<Period> = self
            .values
            .iter()
            .map(|v| v.quarter)
            .chain(self.milestones.iter().map(|m| m.quarter))
            .collect();
        let skip = all.len().saturating_sub(QUARTERS_SHOWN);
        all.into_iter().skip(skip).collect()
    }
}

fn kind_word(k: MetricKind) -> &'static str {
    k.as_str()
}

/// "posts (count, leading, target 3)".
pub fn describe(m: &Metric) -> String {
    let mut out = format!(
        "{} ({}, {}",
        m.name,
        m.value_type.label(),
        kind_word(m.kind)
    );
    if let Some(t) = m.target {
        out.push_str(&format!(", target {}", m.value_type.show(t)));
    }
    if m.private {
        out.push_str(", private");
    }
    out.push(')');
    out
}

/// "3 ✓" when a value meets its target.
fn shown(m: &Metric, v: f64) -> String {
    let mut s = m.value_type.show(v);
    if m.target.is_some_and(|t| meets(v, t)) {
        s.push_str(" ✓");
    }
    s
}

/// The table over quarters, under `title` ("Your scorecard"): a line per metric (its values by quarter, ✓ where the target is met), then a line per
/// milestone with its status history.
pub fn table(title: &str, card: &Card) -> Text {
    let quarters = card.quarters();
    let mut text = crate::text![
        bold(title),
        " (values at each quarter's check-in; ✓ meets the target):"
    ];
    if card.metrics.is_empty() {
        text.line(spans!["No metrics yet."]);
    }
    for m in &card.metrics {
        let cells: Vec<String> = quarters
            .iter()
            .filter_map(|q| {
                card.value(m.id, *q)
                    .map(|v| format!("{} {}", q.label(), shown(m, v)))
            })
            .collect();
        let mut line = spans![
            bold(&m.name),
            format!(" {}", &describe(m)[m.name.len() + 1..])
        ];
        if m.removed_at.is_some() {
            line.push(" (removed)".into());
        }
        line.push(
            format!(
                ": {}",
                if cells.is_empty() {
                    "nothing recorded yet".to_owned()
                } else {
                    cells.join(" · ")
                }
            )
            .into(),
        );
        text.line(line);
    }
    if !card.milestones.is_empty() {
        text.line(spans![bold("Milestones")]);
        for h in Horizon::ALL {
            let checks: Vec<&MilestoneCheck> =
                card.milestones.iter().filter(|c| c.horizon == *h).collect();
            let Some(last) = checks.last() else {
                continue;
            };
            text.item(spans![
                bold(h.label()),
                format!(
                    " {}: {}",
                    clip(&last.milestone, 120),
                    checks
                        .iter()
                        .map(|c| format!("{} {}", c.quarter.label(), c.status.label()))
                        .collect::<Vec<_>>()
                        .join(" · ")
                )
            ]);
        }
    }
    text
}

/// The line a review post carries: the quarter's values (private metrics are never in `card` for the circle) and
/// where the milestones stand. None when nothing was recorded for the quarter.
pub fn review_line(card: &Card, quarter: Period) -> Option<String> {
    let values: Vec<String> = card
        .metrics
        .iter()
        .filter_map(|m| {
            let v = card.value(m.id, quarter)?;
            Some(match m.target {
                Some(t) => format!(
                    "{} {} (target {}{})",
                    m.name,
                    m.value_type.show(v),
                    m.value_type.show(t),
                    if meets(v, t) { " ✓" } else { "" }
                ),
                None => format!("{} {}", m.name, m.value_type.show(v)),
            })
        })
        .collect();
    let milestones: Vec<String> = card
        .milestones
        .iter()
        .filter(|c| c.quarter == quarter)
        .map(|c| format!("{} {}", c.horizon.label(), c.status.label()))
        .collect();
    if values.is_empty() && milestones.is_empty() {
        return None;
    }
    let mut out = format!("Scorecard {}:", quarter.label());
    if !values.is_empty() {
        out.push_str(&format!(" {}", values.join(" · ")));
    }
    if !milestones.is_empty() {
        out.push_str(&format!(
            "{} milestones {}",
            if values.is_empty() { "" } else { ";" },
            milestones.join(" · ")
        ));
    }
    Some(out)
}

/// The chart's series: one per metric, a value per quarter shown.
pub fn series(card: &Card, quarters: &[Period]) -> Vec<Series> {
    card.metrics
        .iter()
        .map(|m| Series {
            title: describe(m),
            values: quarters.iter().map(|q| card.value(m.id, *q)).collect(),
            target: m.target,
            range: match m.value_type {
                ValueType::Scale => Some((1.0, 5.0)),
                ValueType::YesNo => Some((0.0, 1.0)),
                ValueType::Number | ValueType::Count => None,
            },
        })
        .collect()
}
