//! /me export and /me delete: a member's whole record on every server of the platform, and its removal. Both
//! work in a DM with the bot, so someone who left every server can still take their data or erase it. The export
//! holds everything the deletion removes.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::app::{Actor, App, Error, Reply, Result};
use crate::chat::text::cmd;
use crate::chat::{Attachment, Button, ButtonStyle};
use crate::domain::action::Action;
use crate::domain::commitment::MarkStatus;
use crate::schedule::review::redactions_for;
use crate::store::circles::Member;
use crate::store::redactions::{self, Redaction};
use crate::store::{
    checkins, circles as circles_store, commitments, deliveries, opportunities, replies, reviews,
    scorecard, specs, wins,
};

impl App {
    /// The name of a circle by id, for rows that outlive a membership.
    async fn circle_name(&self, names: &mut HashMap<i64, String>, id: i64) -> Result<String> {
        if let Some(n) = names.get(&id) {
            return Ok(n.clone());
        }
        let name = circles_store::circle_by_id(&self.pool, id)
            .await?
            .map(|c| c.name)
            .unwrap_or_else(|| format!("circle {id}"));
        names.insert(id, name.clone());
        Ok(name)
    }

    /// One member record's part of the export: (JSON sections, Markdown).
    async fn export_member(
        &self,
        member: &Member,
        server: &str,
        names: &mut HashMap<i64, String>,
    ) -> Result<(HashMap<&'static str, Vec<Value>>, String)> {
        let id = member.id;
        let mut out: HashMap<&'static str, Vec<Value>> = HashMap::new();
        let circles = circles_store::circles_of_member(&self.pool, id).await?;
        let spec_versions = specs::history(&self.pool, id).await?;
        let all_commitments = commitments::all_of_member(&self.pool, id).await?;
        let marks = commitments::periods_of_member(&self.pool, id).await?;
        let all_wins = wins::all(&self.pool, id).await?;
        let all_checkins = checkins::of_member(&self.pool, id).await?;
        let evaluations = opportunities::of_member(&self.pool, id).await?;
        let feedback = reviews::feedback_of_member(&self.pool, id).await?;
        let lived = opportunities::hindsight_of_member(&self.pool, id).await?;
        let shares = opportunities::shares_of_member(&self.pool, id).await?;
        let opinions = opportunities::opinions_for_member(&self.pool, id).await?;
        let opinions_written = opportunities::opinions_by_member(&self.pool, id).await?;
        let metrics = scorecard::metrics_of(&self.pool, id, true).await?;
        let values = scorecard::values_of(&self.pool, id).await?;
        let milestone_checks = scorecard::milestones_of(&self.pool, id).await?;
        out.entry("members").or_default().push(json!({
            "server": server, "display_name": member.display_name, "platform_user_id": member.platform_user_id,
            "zone": member.zone.map(|z| z.name()), "vacation_until": member.vacation_until,
        }));
        for (c, role) in &circles {
            out.entry("circles")
                .or_default()
                .push(json!({"server": server, "name": c.name, "role": role.as_str()}));
        }
        for s in &spec_versions {
            out.entry("spec_versions").or_default().push(json!({
                "server": server, "version": s.version, "saved_at": s.created_at, "vision": s.text.vision,
                "milestones_1y": s.text.milestones_1y, "milestones_3y": s.text.milestones_3y,
                "milestones_5y": s.text.milestones_5y, "skills": s.text.skills, "metrics": s.text.metrics,
                "tradeoffs": s.text.tradeoffs, "phase": s.phase.as_str(), "phase_since": s.phase_since,
                "visibility": s.visibility.as_str(), "established": s.established}));
        }
        for c in &all_commitments {
            out.entry("commitments").or_default().push(json!({
                "server": server, "title": c.title, "cadence": c.cadence.as_str(), "started_on": c.started_on,
                "dropped_at": c.dropped_at, "bet": c.bet.map(|b| b.as_str()), "postmortem": c.postmortem,
                "periods": marks.iter().filter(|m| m.commitment_id == c.id).map(|m| json!({
                    "period": m.period.key(), "status": m.status.as_str(), "at": m.done_at, "link": m.link,
                    "note": m.note})).collect::<Vec<_>>(),
            }));
        }
        for w in &all_wins {
            out.entry("wins").or_default().push(
                json!({"server": server, "text": w.text, "link": w.link, "at": w.created_at,
                       "bet": w.bet.map(|b| b.as_str()),
                       "serves": w.serves.as_ref().map(|(k, t)| json!({"kind": k.as_str(), "text": t}))}),
            );
        }
        for c in &all_checkins {
            let history = checkins::revisions(&self.pool, c.id).await?;
            let circle = self.circle_name(names, c.circle_id).await?;
            out.entry("checkins").or_default().push(json!({
                "server": server, "circle": circle, "period": c.period.key(), "answers": c.answers.to_json(),
                "submitted_at": c.submitted_at, "updated_at": c.updated_at,
                "earlier_versions": history.iter().map(|(a, at)| json!({"answers": a.to_json(), "written_at": at}))
                    .collect::<Vec<_>>(),
            }));
        }
        for s in &evaluations {
            let e = &s.e;
            out.entry("opportunities").or_default().push(json!({
                "server": server, "number": s.number, "name": e.name, "must_haves": e.must_haves,
                "scores": e.scores, "weighted_score": e.weighted_score, "verdict": e.verdict.as_str(),
                "at": e.created_at, "spec_version": e.spec_version, "earlier_reading": e.earlier_reading,
                "bet": e.bet.map(|b| b.as_str()), "decision": s.decision.map(|d| d.as_str()),
                "decided_on": s.decided_on,
                "hindsight": lived.iter().filter(|h| h.evaluation_id == s.id).map(|h| json!({
                    "months": h.months, "learning": h.scores[0], "impact": h.scores[1],
                    "compensation": h.scores[2], "team": h.scores[3], "note": h.note, "at": h.answered_at}))
                    .collect::<Vec<_>>(),
                "shared_with": shares.iter().filter(|(id, ..)| *id == s.id).map(|(_, c, comp, at)| json!({
                    "circle": circles.iter().find(|(x, _)| x.id == *c).map(|(x, _)| x.name.clone()),
                    "with_compensation": comp, "at": at})).collect::<Vec<_>>(),
                "opinions": opinions.iter().filter(|o| o.evaluation_id == s.id).map(|o| json!({
                    "from": o.author_name, "text": o.text, "at": o.created_at})).collect::<Vec<_>>(),
            }));
        }
        for (offer, text, at) in &opinions_written {
            out.entry("opinions_written")
                .or_default()
                .push(json!({"server": server, "offer": offer, "text": text, "at": at}));
        }
        for m in &metrics {
            out.entry("scorecard_metrics").or_default().push(json!({
                "server": server, "name": m.name, "type": m.value_type.as_str(), "kind": m.kind.as_str(),
                "target": m.target, "private": m.private, "added_at": m.created_at, "removed_at": m.removed_at,
                "values": values.iter().filter(|v| v.metric_id == m.id).map(|v| json!({
                    "quarter": v.quarter.key(), "value": v.value})).collect::<Vec<_>>()}));
        }
        for c in &milestone_checks {
            out.entry("scorecard_milestones").or_default().push(json!({
                "server": server, "horizon": c.horizon.as_str(), "quarter": c.quarter.key(),
                "status": c.status.as_str(), "milestone": c.milestone, "at": c.recorded_at}));
        }
        for (p, a, s, t) in &feedback {
            out.entry("feedback")
                .or_default()
                .push(json!({"server": server, "period": p.key(), "from": a, "to": s, "text": t}));
        }
        // Feedback received, as its subject sees it: an anonymous author stays unnamed even here.
        let received = crate::store::feedback::received(&self.pool, id).await?;
        for p in &received {
            out.entry("feedback_received").or_default().push(json!({
                "server": server, "from": crate::app::feedback::author_words(p),
                "in_private": p.quarter.is_none(), "period": p.quarter.map(|q| q.key()), "text": p.text,
                "at": p.created_at,
                "decision": p.mark.as_ref().map(|m| m.decision.as_str()),
                "until": p.mark.as_ref().and_then(|m| m.until).map(|q| q.key()),
                "reason": p.mark.as_ref().and_then(|m| m.reason.clone()),
                "part": p.mark.as_ref().and_then(|m| m.part.clone())}));
        }
        // Private feedback the member wrote: theirs, so it shows even when it was sent without their name.
        let written = crate::store::feedback::written_by(&self.pool, id).await?;
        for (to, anonymous, text, at) in &written {
            out.entry("private_feedback_written")
                .or_default()
                .push(json!({
                "server": server, "to": to, "anonymous": anonymous, "text": text, "at": at}));
        }
        let events = crate::store::events::events_of(&self.pool, id).await?;
        for e in &events {
            out.entry("event_checkins").or_default().push(json!({
                "server": server, "kind": e.kind.as_str(), "happened": e.happened, "learned": e.learned,
                "spec_change": e.spec_change, "on": e.happened_on, "at": e.created_at}));
        }
        for (circle, quarter, period, at) in
            &crate::store::feedback::stories_shared_by(&self.pool, id).await?
        {
            out.entry("stories_shared").or_default().push(json!({
                "server": server, "circle": circle, "review": quarter, "story": period, "at": at}));
        }
        let plans = crate::store::events::plans_of(&self.pool, id).await?;
        for p in &plans {
            out.entry("landing_plans").or_default().push(json!({
                "server": server, "started_on": p.started_on,
                "outcomes": p.outcomes.iter().map(|(d, o, at)| json!({"day": d, "outcome": o, "at": at}))
                    .collect::<Vec<_>>()}));
        }
        for (_, circle, period, channel, message) in
            reviews::posts_listed(&self.pool, &[id]).await?
        {
            out.entry("review_posts").or_default().push(json!({
                "server": server, "circle": circle, "period": period.key(), "channel_id": channel,
                "message_id": message}));
        }
        for (circle, period, reader, read) in reviews::assignments_listed(&self.pool, &[id]).await?
        {
            out.entry("readings").or_default().push(json!({
                "server": server, "circle": circle, "period": period.key(), "reader": reader, "reads": read}));
        }
        for d in deliveries::of_members(&self.pool, &[id]).await? {
            out.entry("prompts").or_default().push(json!({
                "server": server, "kind": d.kind, "period": d.period, "status": d.status, "due_at": d.due_at,
                "sent_at": d.sent_at}));
        }
        for r in replies::of_members(&self.pool, &[id]).await? {
            out.entry("waiting_messages").or_default().push(json!({
                "server": server, "text": r.text, "at": r.created_at}));
        }

        let mut md = format!("## On server {server} as {}\n\n", member.display_name);
        if let Some(s) = spec_versions.last() {
            md.push_str(&format!(
                "### Career spec (version {})\n\n**Vision**: {}\n\n**Milestones**: now-1y: {}; 1-3y: {}; 3-5y: {}\n\n**Skills**: {}\n\n**Metrics**: {}\n\n**Trade-offs**: {}\n\nPhase: {} since {}\n\n",
                s.version, s.text.vision, s.text.milestones_1y, s.text.milestones_3y, s.text.milestones_5y,
                s.text.skills, s.text.metrics, s.text.tradeoffs, s.phase, s.phase_since.format("%Y-%m-%d")
            ));
        }
        md.push_str("### Commitments\n\n");
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
        md.push_str("\n### Wins\n\n");
        for w in &all_wins {
            md.push_str(&format!(
                "- {}: {}\n",
                w.created_at.format("%Y-%m-%d"),
                w.text
            ));
        }
        if !events.is_empty() {
            md.push_str("\n### Check-ins after major events\n\n");
            for e in &events {
                md.push_str(&format!(
                    "- {} ({}): {}{}{}\n",
                    e.kind.label(),
                    e.happened_on,
                    e.happened,
                    e.learned
                        .as_deref()
                        .map_or(String::new(), |l| format!(" Learned: {l}")),
                    e.spec_change
                        .as_deref()
                        .map_or(String::new(), |c| format!(" Spec: {c}"))
                ));
            }
        }
        for p in &plans {
            md.push_str(&format!("\n### Landing plan from {}\n\n", p.started_on));
            for (day, outcome, _) in &p.outcomes {
                md.push_str(&format!("- Day {day}: {outcome}\n"));
            }
        }
        if !received.is_empty() {
            md.push_str("\n### Feedback received\n\n");
            for p in &received {
                md.push_str(&format!(
                    "- {}{}: {}{}\n",
                    crate::app::feedback::author_words(p),
                    if p.quarter.is_none() {
                        " (in private)"
                    } else {
                        ""
                    },
                    p.text,
                    p.mark.as_ref().map_or(String::new(), |m| format!(
                        " → {}",
                        crate::app::feedback::mark_words(m)
                    ))
                ));
            }
        }
        if !written.is_empty() {
            md.push_str("\n### Private feedback you wrote\n\n");
            for (to, anonymous, text, _) in &written {
                md.push_str(&format!(
                    "- To {to}{}: {text}\n",
                    if *anonymous {
                        " (sent without your name)"
                    } else {
                        ""
                    }
                ));
            }
        }
        md.push_str("\n### Check-ins\n\n");
        for c in &all_checkins {
            md.push_str(&format!(
                "#### {} ({})\n\n{}\n\n",
                c.period.label(),
                self.circle_name(names, c.circle_id).await?,
                c.answers.to_markdown()
            ));
        }
        md.push_str("### Opportunities\n\n");
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
        md.push_str("\n### Scorecard\n\n");
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
        md.push('\n');
        Ok((out, md))
    }

    /// Everything stored about the member on every server of this platform, as JSON and as Markdown. Works in a
    /// DM with the bot.
    pub async fn me_export(&self, actor: &Actor) -> Result<Reply> {
        let mut members =
            circles_store::members_of_user(&self.pool, actor.platform, &actor.user_id).await?;
        if members.is_empty() {
            return Ok(Reply::private(
                "There is nothing stored about you: you haven't used career-circle yet.",
            ));
        }
        // The record of the server the command came from first: `member` at the top is that one.
        if let Some(server) = &actor.server
            && let Some(here) =
                circles_store::find_member_on(&self.pool, actor.platform, server, &actor.user_id)
                    .await?
        {
            members.sort_by_key(|m| m.id != here.id);
        }
        let servers: HashMap<i64, String> = circles_store::server_external_ids(
            &self.pool,
            &members.iter().map(|m| m.server_id).collect::<Vec<_>>(),
        )
        .await?
        .into_iter()
        .collect();
        let mut names = HashMap::new();
        let mut sections: Vec<(&'static str, Vec<Value>)> = [
            "members",
            "circles",
            "spec_versions",
            "commitments",
            "wins",
            "checkins",
            "opportunities",
            "opinions_written",
            "scorecard_metrics",
            "scorecard_milestones",
            "feedback",
            "feedback_received",
            "private_feedback_written",
            "event_checkins",
            "landing_plans",
            "stories_shared",
            "review_posts",
            "readings",
            "prompts",
            "waiting_messages",
        ]
        .into_iter()
        .map(|k| (k, Vec::new()))
        .collect();
        let mut md = format!(
            "# career-circle export: {}\n\nEverything career-circle keeps about you on {} server(s) of {}.\n\n",
            members[0].display_name,
            members.len(),
            actor.platform
        );
        for m in &members {
            let server = servers.get(&m.server_id).cloned().unwrap_or_default();
            let (part, text) = self.export_member(m, &server, &mut names).await?;
            for (key, list) in &mut sections {
                if let Some(items) = part.get(key) {
                    list.extend(items.iter().cloned());
                }
            }
            md.push_str(&text);
        }
        let first = &members[0];
        let mut doc = serde_json::Map::new();
        doc.insert("platform".into(), json!(actor.platform.as_str()));
        doc.insert(
            "member".into(),
            json!({"display_name": first.display_name, "platform_user_id": first.platform_user_id,
                   "server": servers.get(&first.server_id), "zone": first.zone.map(|z| z.name()),
                   "vacation_until": first.vacation_until}),
        );
        for (key, list) in sections {
            doc.insert(key.into(), Value::Array(list));
        }
        let json_bytes = serde_json::to_vec_pretty(&Value::Object(doc))
            .map_err(|e| Error::Unexpected(e.into()))?;
        Ok(Reply::private(format!(
            "Here is everything career-circle keeps about you, on every server ({}).",
            members.len()
        ))
        .with_files(vec![
            Attachment {
                filename: "career-circle-export.json".to_owned(),
                bytes: json_bytes,
            },
            Attachment {
                filename: "career-circle-export.md".to_owned(),
                bytes: md.into_bytes(),
            },
        ]))
    }

    /// Asks for confirmation; nothing is deleted until the button is pressed.
    pub fn me_delete(&self) -> Reply {
        Reply::private(crate::text![
            "This deletes your spec and its history, scorecard, commitments, wins, check-ins, opportunity \
             evaluations and the feedback and opinions you wrote or received, in every circle and server, for good. \
             My posts that quote you are edited to say so. ",
            cmd("me export"),
            " first if you want a copy."
        ])
        .with_buttons(vec![
            Button { custom_id: Action::ConfirmDelete.custom_id(), label: "Delete everything".to_owned(), style: ButtonStyle::Danger },
            Button { custom_id: Action::CancelDelete.custom_id(), label: "Keep my data".to_owned(), style: ButtonStyle::Secondary },
        ])
    }

    /// Deletes every record of the user on this platform. First the edits to the bot's posts that quote them are
    /// worked out and queued (the worker applies them), then the rows go, and circles left without an organiser
    /// are handed to their longest-standing member.
    pub async fn me_delete_confirmed(&self, actor: &Actor) -> Result<Reply> {
        let members =
            circles_store::members_of_user(&self.pool, actor.platform, &actor.user_id).await?;
        let ids: Vec<i64> = members.iter().map(|m| m.id).collect();
        let now = self.now();
        let mut edits = Vec::new();
        for thread in reviews::threads_of(&self.pool, &ids).await? {
            let Some(circle) = circles_store::circle_by_id(&self.pool, thread.circle_id).await?
            else {
                continue;
            };
            for (message, text, images) in redactions_for(&self.pool, &thread, &ids, now).await? {
                edits.push(Redaction {
                    server_id: circle.server_id,
                    message,
                    text,
                    attachments: images,
                });
            }
        }
        let mut tx = self.pool.begin().await?;
        for r in &edits {
            redactions::add(&mut tx, r, now).await?;
        }
        let circles =
            circles_store::circle_ids_of_user(&mut tx, actor.platform, &actor.user_id).await?;
        let removed = circles_store::delete_user(&mut tx, actor.platform, &actor.user_id).await?;
        let handed = circles_store::hand_over_and_tell(&mut tx, &circles, now).await?;
        tx.commit().await?;
        tracing::info!(
            records = removed,
            edits = edits.len(),
            handovers = handed.len(),
            "a member deleted their data"
        );
        Ok(Reply::private(if removed == 0 {
            "There was nothing stored about you.".to_owned()
        } else {
            "Done: everything career-circle stored about you is gone, and my posts that quoted you are being edited \
             to say so. Take care, and you're welcome back any time."
                .to_owned()
        }))
    }
}
