//! `/story`: a career story from the member's own records, as a Markdown press release; wins linked to the
//! milestone or skill they serve (`/win add serves:`, `/win link`); a story shared into the review thread, where
//! replies are feedback like replies to a check-in.

use crate::app::{Actor, App, Error, Reply, Result};
use crate::chat::fit::clip;
use crate::chat::text::{Text, bold, cmd};
use crate::chat::{Attachment, ChatMessage, Destination};
use crate::domain::narrative::{Serves, SpecItem, find_item, spec_items};
use crate::domain::period::{Period, local_date};
use crate::domain::story::{Facts, Story, StoryWin, compose};
use crate::schedule::review::load::bounds;
use crate::spans;
use crate::store::circles::Member;
use crate::store::{commitments, events, feedback, reviews, specs, wins};

/// Milestones and "next" lines a story lists at most.
const NEXT_SHOWN: usize = 5;

impl App {
    /// The milestones and skills of the member's current spec, numbered as `/win link` reads them.
    async fn spec_items_of(&self, member: &Member) -> Result<Vec<SpecItem>> {
        Ok(specs::current(&self.pool, member.id)
            .await?
            .map(|s| spec_items(&s.text))
            .unwrap_or_default())
    }

    async fn serving(&self, member: &Member, wanted: &str) -> Result<SpecItem> {
        let items = self.spec_items_of(member).await?;
        if items.is_empty() {
            return Err(Error::user(crate::text![
                "Your spec has no milestones or skills yet to link a win to. ",
                cmd("spec edit"),
                " adds them."
            ]));
        }
        find_item(&items, wanted).map_err(|e| {
            let mut text = Text::plain(e);
            for (i, item) in items.iter().enumerate() {
                text.item(spans![format!(
                    "{}. {}: {}",
                    i + 1,
                    item.kind,
                    clip(&item.text, 100)
                )]);
            }
            Error::user(text)
        })
    }

    /// A win, optionally linked to the milestone or skill it serves.
    pub async fn win_add_serving(
        &self,
        actor: &Actor,
        text: &str,
        link: Option<&str>,
        bet: Option<&str>,
        serves: Option<&str>,
    ) -> Result<Reply> {
        let Some(wanted) = serves.map(str::trim).filter(|s| !s.is_empty()) else {
            return self.win_add_bet(actor, text, link, bet).await;
        };
        let member = self.member(actor).await?;
        // Checked before the win is stored, so a typo does not leave an unlinked win behind.
        let item = self.serving(&member, wanted).await?;
        let reply = self
            .win_add_with(actor, text, link, bet, Some((item.kind, &item.text)))
            .await?;
        let mut text = reply.text;
        text.line(spans![
            format!("It serves the {} ", item.kind),
            bold(clip(&item.text, 100)),
            " in your story."
        ]);
        Ok(Reply::private(text))
    }

    /// Links a logged win (its number in `/win list`) to a milestone or skill of the spec.
    pub async fn win_link(&self, actor: &Actor, win: i64, serves: &str) -> Result<Reply> {
        let member = self.member(actor).await?;
        let all = wins::all(&self.pool, member.id).await?;
        let w = usize::try_from(win)
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| all.get(i))
            .ok_or_else(|| {
                Error::user(crate::text![
                    format!("You have {} wins; ", all.len()),
                    cmd("win list"),
                    " shows their numbers."
                ])
            })?;
        let item = self.serving(&member, serves).await?;
        events::link_win(&self.pool, member.id, w.id, Some((item.kind, &item.text))).await?;
        Ok(Reply::private(crate::text![
            format!(
                "Win #{win} (\"{}\") now serves the {} ",
                clip(&w.text, 80),
                item.kind
            ),
            bold(clip(&item.text, 100)),
            "."
        ]))
    }

    /// The story's period: "year" (default), "quarter", or a named quarter or year.
    fn story_period(&self, wanted: Option<&str>, today: chrono::NaiveDate) -> Result<Period> {
        match wanted.map(str::trim).filter(|p| !p.is_empty()) {
            None => Ok(Period::containing_year(today)),
            Some(p) if p.eq_ignore_ascii_case("year") => Ok(Period::containing_year(today)),
            Some(p) if p.eq_ignore_ascii_case("quarter") => Ok(Period::containing_quarter(today)),
            Some(p) => match Period::parse_user(p).map_err(|e| Error::user(e.to_string()))? {
                q @ (Period::Quarter { .. } | Period::Year { .. }) => Ok(q),
                _ => Err(Error::user(
                    "A story covers a quarter or a year: say Q2 2027, 2027, quarter or year.",
                )),
            },
        }
    }

    /// Everything the story is told from, read from the member's own records only.
    pub(crate) async fn story_facts(&self, member: &Member, period: Period) -> Result<Story> {
        let zone = self.zone_of(member).await?;
        let (from, to) = bounds(period, zone);
        let spec = specs::current(&self.pool, member.id).await?;
        let items = spec
            .as_ref()
            .map(|s| spec_items(&s.text))
            .unwrap_or_default();
        let all_wins = wins::all(&self.pool, member.id).await?;
        let mut facts = Facts {
            name: member.display_name.clone(),
            period: period.label(),
            vision: spec
                .as_ref()
                .map(|s| s.text.vision.trim().to_owned())
                .filter(|v| !v.is_empty()),
            ..Facts::default()
        };
        facts.wins = all_wins
            .iter()
            .filter(|w| w.created_at >= from && w.created_at < to)
            .map(|w| StoryWin {
                date: w
                    .created_at
                    .with_timezone(&zone.tz())
                    .format("%b %-d")
                    .to_string(),
                text: w.text.clone(),
                link: w.link.clone(),
                serves: w.serves.clone(),
            })
            .collect();
        // Skills with no evidence yet in the calendar year the story ends in.
        let year = Period::containing_year(period.end_date());
        let (year_from, year_to) = bounds(year, zone);
        facts.skills_without_evidence = items
            .iter()
            .filter(|i| i.kind == Serves::Skill)
            .filter(|i| {
                !all_wins.iter().any(|w| {
                    w.created_at >= year_from
                        && w.created_at < year_to
                        && w.serves.as_ref().is_some_and(|(k, t)| {
                            *k == Serves::Skill && t.eq_ignore_ascii_case(&i.text)
                        })
                })
            })
            .map(|i| i.text.clone())
            .collect();
        // Metrics that moved: the first and last value recorded in the period's quarters (the circle never sees
        // private metrics, but this story is the member's own).
        let card = crate::schedule::scorecard::load(&self.pool, member.id, true).await?;
        for m in card.metrics.iter().filter(|m| m.removed_at.is_none()) {
            let mut values: Vec<(Period, f64)> = card
                .values
                .iter()
                .filter(|v| v.metric_id == m.id && period.contains(v.quarter.start_date()))
                .map(|v| (v.quarter, v.value))
                .collect();
            values.sort_by_key(|(q, _)| *q);
            let shown = |v: f64| m.value_type.show(v);
            let target = m
                .target
                .map_or(String::new(), |t| format!(" (target {})", shown(t)));
            match (values.first(), values.last()) {
                (Some((q1, a)), Some((q2, b))) if q1 != q2 => facts.metrics.push(format!(
                    "{}: {} in {} → {} in {}{target}",
                    m.name,
                    shown(*a),
                    q1.label(),
                    shown(*b),
                    q2.label()
                )),
                (Some((q, a)), _) => facts.metrics.push(format!(
                    "{}: {} in {}{target}",
                    m.name,
                    shown(*a),
                    q.label()
                )),
                _ => {}
            }
        }
        // Writing published: the links of the member's commitments marked done in the period.
        let all_commitments = commitments::all_of_member(&self.pool, member.id).await?;
        for mark in commitments::periods_of_member(&self.pool, member.id).await? {
            let Some(link) = mark.link.clone() else {
                continue;
            };
            if !period.contains(mark.period.start_date()) {
                continue;
            }
            let title = all_commitments
                .iter()
                .find(|c| c.id == mark.commitment_id)
                .map(|c| c.title.clone())
                .unwrap_or_default();
            facts
                .writing
                .push((format!("{} ({})", title, mark.period.label()), link));
        }
        for e in events::events_of(&self.pool, member.id)
            .await?
            .into_iter()
            .rev()
        {
            if period.contains(e.happened_on) {
                facts.events.push(format!(
                    "{} ({}): {}{}",
                    capitalise(e.kind.label()),
                    e.happened_on,
                    e.happened,
                    e.learned
                        .as_deref()
                        .map_or(String::new(), |l| format!(" Learned: {l}"))
                ));
            }
        }
        for plan in events::plans_of(&self.pool, member.id)
            .await?
            .into_iter()
            .rev()
        {
            for (day, outcome, at) in &plan.outcomes {
                if *at >= from && *at < to {
                    let phase = crate::domain::narrative::landing_phase(*day)
                        .map_or("", |(_, name, _)| name);
                    facts.landing.push(format!(
                        "Landing in the role that began {}, day {day} ({phase}): {outcome}",
                        plan.started_on
                    ));
                }
            }
        }
        if let Some(s) = &spec {
            for (label, lines) in [
                ("Within a year", &s.text.milestones_1y),
                ("In 1-3 years", &s.text.milestones_3y),
                ("In 3-5 years", &s.text.milestones_5y),
            ] {
                for l in lines.lines().map(str::trim).filter(|l| !l.is_empty()) {
                    facts.next.push(format!("{label}: {l}"));
                }
            }
            facts.next.truncate(NEXT_SHOWN);
        }
        Ok(compose(&facts))
    }

    /// `/story`: drafted privately as a file and a short summary; `share` posts it in the circle's open review.
    pub async fn story(
        &self,
        actor: &Actor,
        period: Option<&str>,
        share: bool,
        circle: Option<&str>,
    ) -> Result<Reply> {
        let member = self.member(actor).await?;
        let zone = self.zone_of(&member).await?;
        let period = self.story_period(period, local_date(self.now(), zone))?;
        let story = self.story_facts(&member, period).await?;
        let filename = format!("career-story-{}.md", period.key().to_ascii_lowercase());
        let file = Attachment {
            filename: filename.clone(),
            bytes: story.markdown.clone().into_bytes(),
        };
        if share {
            return self
                .story_share(actor, &member, circle, period, &story, file)
                .await;
        }
        let mut text = crate::text![
            format!("Your career story for {}: ", period.label()),
            bold(clip(&story.headline, 200))
        ];
        text.line(spans![format!(
            "It's in {filename}, drafted from your own wins, scorecard, writing and spec. Only you can see it."
        )]);
        if story.we_only > 0 {
            text.item(spans![format!(
                "{} win{} told only as \"we\": what was your part?",
                story.we_only,
                if story.we_only == 1 { " is" } else { "s are" }
            )]);
        }
        if story.unlinked > 0 {
            text.item(spans![
                format!(
                    "{} win{} not linked to your spec yet: ",
                    story.unlinked,
                    if story.unlinked == 1 { "" } else { "s" }
                ),
                cmd("win link"),
                "."
            ]);
        }
        text.line(spans![
            "To hear what your circle makes of it: ",
            cmd("story share:true"),
            " posts it in the open review thread."
        ]);
        Ok(Reply::private(self.fit(actor, text, None)).with_files(vec![file]))
    }

    async fn story_share(
        &self,
        actor: &Actor,
        member: &Member,
        circle: Option<&str>,
        period: Period,
        story: &Story,
        file: Attachment,
    ) -> Result<Reply> {
        let (circle, _) = self.circle_of(member, circle).await?;
        let quarter = Period::containing_quarter(local_date(self.now(), circle.zone));
        let mut open = None;
        for q in [quarter, quarter.prev()] {
            if let Some(t) = reviews::find(&self.pool, circle.id, q).await?
                && t.closed_at.is_none()
                && let Some(place) = t.thread.clone()
            {
                open = Some((t, place));
                break;
            }
        }
        let Some((thread, place)) = open else {
            return Err(Error::user(crate::text![
                "No review thread is open in ",
                bold(&circle.name),
                " right now. Your story is yours to keep; share it when the next review opens."
            ]));
        };
        let Some(chat) = self.chat(actor.platform) else {
            return Err(Error::user(
                "I can't post to the review thread from here; try again from the server.",
            ));
        };
        let mut text = crate::text![
            bold(&member.display_name),
            format!(" shares their career story for {}: ", period.label()),
            bold(clip(&story.headline, 200))
        ];
        text.line(spans![
            "Reply to this message with what lands and what's missing: it reaches them as feedback."
        ]);
        let caps = chat.capabilities();
        let message = ChatMessage {
            text: crate::chat::fit::shorten(text, caps, None),
            attachments: vec![file],
            ..ChatMessage::default()
        };
        // The nonce drops a second send of this very share (a retried command); Discord takes 25 characters.
        let nonce = format!("s{}m{}{}", thread.id, member.id, period.key());
        let posted = chat
            .send(
                &Destination::Thread(place),
                &message,
                Some(nonce.as_str()).filter(|n| n.len() <= 25),
            )
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "sharing a story failed");
                Error::user(
                    "I couldn't post in the review thread just now; please try again in a minute.",
                )
            })?;
        feedback::record_story_share(
            &self.pool,
            thread.id,
            member.id,
            period,
            &posted.message_id,
            self.now(),
        )
        .await?;
        Ok(Reply::private(crate::text![
            format!("Shared your {} story in the ", period.label()),
            bold(format!("{} review", thread.period.label())),
            ". Replies to it are kept as feedback; ",
            cmd("review feedback"),
            " lists them."
        ]))
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}
