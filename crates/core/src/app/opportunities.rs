//! /opportunity evaluate and list: each offer scored against the spec, never against the previous offer.

use serde_json::json;

use crate::app::{Actor, App, Error, Reply, Result, check_len};
use crate::chat::text::{Text, bold, cmd};
use crate::domain::opportunity::{
    CRITERIA, Verdict, must_haves, parse_failed, score, verdict, weighted,
};
use crate::spans;
use crate::store::opportunities::{self as store, Evaluation};
use crate::store::specs;

pub struct Evaluate<'a> {
    pub name: &'a str,
    /// Scores 1-5 in the order of `CRITERIA`: learning, impact, compensation, team, alignment.
    pub scores: [i64; 5],
    /// Numbers of the must-haves this opportunity fails ("2, 3"), or "none".
    pub fails: Option<&'a str>,
}

impl App {
    pub async fn opportunity_evaluate(&self, actor: &Actor, req: Evaluate<'_>) -> Result<Reply> {
        let name = req.name.trim();
        if name.is_empty() {
            return Err(Error::user(crate::text![
                "Name the opportunity, e.g. ",
                crate::chat::text::code("name:Acme staff PM"),
                "."
            ]));
        }
        check_len("The name", name, 100)?;
        let mut scores = [0u8; 5];
        for (i, ((key, _, _), value)) in CRITERIA.iter().zip(req.scores).enumerate() {
            scores[i] = score(key, value).map_err(Error::user)?;
        }
        let member = self.member(actor).await?;
        let spec = specs::current(&self.pool, member.id).await?;
        let musts = spec
            .as_ref()
            .map(|s| must_haves(&s.text.tradeoffs))
            .unwrap_or_default();
        let failed = parse_failed(req.fails.unwrap_or(""), musts.len()).map_err(Error::user)?;
        let total = weighted(&scores);
        let v = verdict(&scores, failed.len());
        let evaluation = Evaluation {
            name: name.to_owned(),
            must_haves: json!(
                musts
                    .iter()
                    .enumerate()
                    .map(|(i, m)| json!({"must_have": m, "passes": !failed.contains(&(i + 1))}))
                    .collect::<Vec<_>>()
            ),
            scores: json!(
                CRITERIA
                    .iter()
                    .zip(scores)
                    .map(|((k, _, _), s)| ((*k).to_owned(), json!(s)))
                    .collect::<serde_json::Map<_, _>>()
            ),
            weighted_score: total,
            verdict: v,
            created_at: self.now(),
        };
        store::add(&self.pool, member.id, &evaluation).await?;
        // The verdict first: if the platform shortens the reply, the answer to "should I?" survives.
        let mut text = Text::new();
        text.line(match v {
            Verdict::FailsMustHave => spans![
                bold("Verdict: it fails a must-have."),
                " However good the rest, your spec says no."
            ],
            Verdict::Closer => spans![bold("Verdict: closer to your 5-year vision.")],
            Verdict::Further => spans![
                bold("Verdict: further from your 5-year vision."),
                " Worth asking what it would take to align it."
            ],
        });
        text.line(spans![
            bold(name),
            ": weighted score ",
            bold(format!("{total:.2} / 5"))
        ]);
        for ((_, label, w), s) in CRITERIA.iter().zip(scores) {
            text.item(spans![format!("{label} ({:.0}%): {s}", w * 100.0)]);
        }
        if musts.is_empty() {
            text.line(spans![
                "Your spec lists no non-negotiables yet; add them under trade-offs with ",
                cmd("spec edit"),
                "."
            ]);
        } else {
            for (i, m) in musts.iter().enumerate() {
                text.line(spans![format!(
                    "{} {}. {m}",
                    if failed.contains(&(i + 1)) {
                        "✗"
                    } else {
                        "✓"
                    },
                    i + 1
                )]);
            }
        }
        Ok(Reply::private(self.fit(
            actor,
            text,
            Some("opportunity list"),
        )))
    }

    pub async fn opportunity_list(&self, actor: &Actor) -> Result<Reply> {
        let member = self.member(actor).await?;
        let all = store::of_member(&self.pool, member.id).await?;
        if all.is_empty() {
            return Ok(Reply::private(crate::text![
                "No opportunities evaluated yet. ",
                cmd("opportunity evaluate"),
                " scores one against your spec."
            ]));
        }
        let mut text = Text::plain("Your evaluated opportunities (each against your spec):");
        for e in all.iter().rev().take(20) {
            text.item(spans![format!(
                "{} ({}): {:.2} / 5, {}",
                e.name,
                e.created_at.format("%Y-%m-%d"),
                e.weighted_score,
                match e.verdict {
                    Verdict::Closer => "closer to the vision",
                    Verdict::Further => "further from the vision",
                    Verdict::FailsMustHave => "fails a must-have",
                }
            )]);
        }
        Ok(Reply::private(self.fit(actor, text, None)))
    }
}
