//! /me export and /me delete: a member's whole record, and its removal.

use serde_json::json;

use crate::app::{Actor, App, Error, Reply, Result};
use crate::chat::text::cmd;
use crate::chat::{Attachment, Button, ButtonStyle};
use crate::domain::action::Action;
use crate::domain::commitment::MarkStatus;
use crate::store::{
    checkins, circles as circles_store, commitments, opportunities, reviews, scorecard, specs, wins,
};

impl App {
    /// Everything stored about the member on this server, as JSON and as Markdown.
    pub async fn me_export(&self, actor: &Actor) -> Result<Reply> {
        let member = self.member(actor).await?;
        let circles = circles_store::circles_of_member(&self.pool, member.id).await?;
        let spec_versions = specs::history(&self.pool, member.id).await?;
        let all_commitments = commitments::all_of_member(&self.pool, member.id).await?;
        let marks = commitments::periods_of_member(&self.pool, member.id).await?;
        let all_wins = wins::all(&self.pool, member.id).await?;
        let all_checkins = checkins::of_member(&self.pool, member.id).await?;
        let evaluations = opportunities::of_member(&self.pool, member.id).await?;
        let feedback = reviews::feedback_of_member(&self.pool, member.id).await?;
        let lived = opportunities::hindsight_of_member(&self.pool, member.id).await?;
        let shares = opportunities::shares_of_member(&self.pool, member.id).await?;
        let opinions = opportunities::opinions_for_member(&self.pool, member.id).await?;
        let opinions_written = opportunities::opinions_by_member(&self.pool, member.id).await?;
        let metrics = scorecard::metrics_of(&self.pool, member.id, true).await?;
        let values = scorecard::values_of(&self.pool, member.id).await?;
        let milestone_checks = scorecard::milestones_of(&self.pool, member.id).await?;
        let mut checkin_json = Vec::new();
        for c in &all_checkins {
            let history = checkins::revisions(&self.pool, c.id).await?;
            checkin_json.push(json!({
                "period": c.period.key(), "answers": c.answers.to_json(), "submitted_at": c.submitted_at,
                "updated_at": c.updated_at,
                "earlier_versions": history.iter().map(|(a, at)| json!({"answers": a.to_json(), "written_at": at}))
                    .collect::<Vec<_>>(),
            }));
        }
        let doc = json!({
            "member": {"display_name": member.display_name, "platform_user_id": member.platform_user_id,
                       "zone": member.zone.map(|z| z.name()), "vacation_until": member.vacation_until},
            "circles": circles.iter().map(|(c, role)| json!({"name": c.name, "role": role.as_str()})).collect::<Vec<_>>(),
            "spec_versions": spec_versions.iter().map(|s| json!({
                "version": s.version, "saved_at": s.created_at, "vision": s.text.vision,
                "milestones_1y": s.text.milestones_1y, "milestones_3y": s.text.milestones_3y,
                "milestones_5y": s.text.milestones_5y, "skills": s.text.skills, "metrics": s.text.metrics,
                "tradeoffs": s.text.tradeoffs, "phase": s.phase.as_str(), "phase_since": s.phase_since,
                "visibility": s.visibility.as_str(), "established": s.established})).collect::<Vec<_>>(),
            "commitments": all_commitments.iter().map(|c| json!({
                "title": c.title, "cadence": c.cadence.as_str(), "started_on": c.started_on, "dropped_at": c.dropped_at,
                "bet": c.bet.map(|b| b.as_str()), "postmortem": c.postmortem,
                "periods": marks.iter().filter(|m| m.commitment_id == c.id).map(|m| json!({
                    "period": m.period.key(), "status": m.status.as_str(), "at": m.done_at, "link": m.link,
                    "note": m.note})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "wins": all_wins.iter().map(|w| json!({"text": w.text, "link": w.link, "at": w.created_at,
                "bet": w.bet.map(|b| b.as_str())})).collect::<Vec<_>>(),
            "checkins": checkin_json,
            "opportunities": evaluations.iter().map(|s| { let e = &s.e; json!({"number": s.number, "name": e.name,
                "must_haves": e.must_haves, "scores": e.scores, "weighted_score": e.weighted_score,
                "verdict": e.verdict.as_str(), "at": e.created_at, "spec_version": e.spec_version,
                "earlier_reading": e.earlier_reading, "bet": e.bet.map(|b| b.as_str()),
                "decision": s.decision.map(|d| d.as_str()), "decided_on": s.decided_on,
                "hindsight": lived.iter().filter(|h| h.evaluation_id == s.id).map(|h| json!({
                    "months": h.months, "learning": h.scores[0], "impact": h.scores[1],
                    "compensation": h.scores[2], "team": h.scores[3], "note": h.note, "at": h.answered_at}))
                    .collect::<Vec<_>>(),
                "shared_with": shares.iter().filter(|(id, ..)| *id == s.id).map(|(_, c, comp, at)| json!({
                    "circle": circles.iter().find(|(x, _)| x.id == *c).map(|(x, _)| x.name.clone()),
                    "with_compensation": comp, "at": at})).collect::<Vec<_>>(),
                "opinions": opinions.iter().filter(|o| o.evaluation_id == s.id).map(|o| json!({
                    "from": o.author_name, "text": o.text, "at": o.created_at})).collect::<Vec<_>>(),
                })}).collect::<Vec<_>>(),
            "opinions_written": opinions_written.iter().map(|(offer, text, at)| json!({
                "offer": offer, "text": text, "at": at})).collect::<Vec<_>>(),
            "scorecard": {
                "metrics": metrics.iter().map(|m| json!({"name": m.name, "type": m.value_type.as_str(),
                    "kind": m.kind.as_str(), "target": m.target, "private": m.private, "added_at": m.created_at,
                    "removed_at": m.removed_at,
                    "values": values.iter().filter(|v| v.metric_id == m.id).map(|v| json!({
                        "quarter": v.quarter.key(), "value": v.value})).collect::<Vec<_>>()}))
                    .collect::<Vec<_>>(),
                "milestones": milestone_checks.iter().map(|c| json!({"horizon": c.horizon.as_str(),
                    "quarter": c.quarter.key(), "status": c.status.as_str(), "milestone": c.milestone,
                    "at": c.recorded_at})).collect::<Vec<_>>(),
            },
            "feedback": feedback.iter().map(|(p, a, s, t)| json!({"period": p.key(), "from": a, "to": s, "text": t}))
                .collect::<Vec<_>>(),
        });
        let json_bytes =
            serde_json::to_vec_pretty(&doc).map_err(|e| Error::Unexpected(e.into()))?;
        let mut md = format!("# career-circle export: {}\n\n", member.display_name);
        if let Some(s) = spec_versions.last() {
            md.push_str(&format!(
                "## Career spec (version {})\n\n**Vision**: {}\n\n**Milestones**: now-1y: {}; 1-3y: {}; 3-5y: {}\n\n**Skills**: {}\n\n**Metrics**: {}\n\n**Trade-offs**: {}\n\nPhase: {} since {}\n\n",
                s.version, s.text.vision, s.text.milestones_1y, s.text.milestones_3y, s.text.milestones_5y,
                s.text.skills, s.text.metrics, s.text.tradeoffs, s.phase, s.phase_since.format("%Y-%m-%d")
            ));
        }
        md.push_str("## Commitments\n\n");
        for c in &all_commitments {
            let kept = marks
                .iter()
                .filter(|m| m.commitment_id == c.id && m.status == MarkStatus::Done)
                .count();
            md.push_str(&format!(
                "- {} ({}), {kept} periods kept{}\n",
                c.title,
                c.cadence,
                if c.dropped_at.is_some() {
                    ", dropped"
                } else {
                    ""
                }
            ));
        }
        md.push_str("\n## Wins\n\n");
        for w in &all_wins {
            md.push_str(&format!(
                "- {}: {}\n",
                w.created_at.format("%Y-%m-%d"),
                w.text
            ));
        }
        md.push_str("\n## Check-ins\n\n");
        for c in &all_checkins {
            md.push_str(&format!(
                "### {}\n\n{}\n\n",
                c.period.label(),
                c.answers.to_markdown()
            ));
        }
        md.push_str("## Opportunities\n\n");
        for s in &evaluations {
            let e = &s.e;
            md.push_str(&format!(
                "- {}: {:.2} / 5, {}{}{}\n",
                e.name,
                e.weighted_score,
                e.verdict,
                e.spec_version
                    .map_or(String::new(), |v| format!(", spec v{v}")),
                s.decision.map_or(String::new(), |d| format!(", {d}"))
            ));
            for h in lived.iter().filter(|h| h.evaluation_id == s.id) {
                md.push_str(&format!(
                    "  - {} months on: learning {}, impact {}, compensation {}, team {}{}\n",
                    h.months,
                    h.scores[0],
                    h.scores[1],
                    h.scores[2],
                    h.scores[3],
                    h.note
                        .as_deref()
                        .map_or(String::new(), |n| format!(": {n}"))
                ));
            }
            for o in opinions.iter().filter(|o| o.evaluation_id == s.id) {
                md.push_str(&format!("  - {} said: {}\n", o.author_name, o.text));
            }
        }
        md.push_str("\n## Scorecard\n\n");
        for m in &metrics {
            let shown: Vec<String> = values
                .iter()
                .filter(|v| v.metric_id == m.id)
                .map(|v| format!("{} {}", v.quarter.label(), m.value_type.show(v.value)))
                .collect();
            md.push_str(&format!(
                "- {} ({}, {}): {}\n",
                m.name,
                m.value_type.label(),
                m.kind,
                shown.join(", ")
            ));
        }
        for c in &milestone_checks {
            md.push_str(&format!(
                "- {} milestone \"{}\" in {}: {}\n",
                c.horizon.label(),
                c.milestone,
                c.quarter.label(),
                c.status.label()
            ));
        }
        Ok(
            Reply::private("Here is everything career-circle keeps about you on this server.")
                .with_files(vec![
                    Attachment {
                        filename: "career-circle-export.json".to_owned(),
                        bytes: json_bytes,
                    },
                    Attachment {
                        filename: "career-circle-export.md".to_owned(),
                        bytes: md.into_bytes(),
                    },
                ]),
        )
    }

    /// Asks for confirmation; nothing is deleted until the button is pressed.
    pub fn me_delete(&self) -> Reply {
        Reply::private(crate::text![
            "This deletes your spec and its history, scorecard, commitments, wins, check-ins, opportunity \
             evaluations and the feedback and opinions you wrote or received, in every circle and server, for good. ",
            cmd("me export"),
            " first if you want a copy."
        ])
        .with_buttons(vec![
            Button { custom_id: Action::ConfirmDelete.custom_id(), label: "Delete everything".to_owned(), style: ButtonStyle::Danger },
            Button { custom_id: Action::CancelDelete.custom_id(), label: "Keep my data".to_owned(), style: ButtonStyle::Secondary },
        ])
    }

    pub async fn me_delete_confirmed(&self, actor: &Actor) -> Result<Reply> {
        let removed =
            circles_store::delete_user(&self.pool, actor.platform, &actor.user_id).await?;
        tracing::info!(records = removed, "a member deleted their data");
        Ok(Reply::private(if removed == 0 {
            "There was nothing stored about you.".to_owned()
        } else {
            "Done: everything career-circle stored about you is gone. Take care, and you're welcome back any time.".to_owned()
        }))
    }
}
