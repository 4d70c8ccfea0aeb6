//! The offer ledger: each offer scored against the spec in force (never against the previous offer), pinned to that
//! spec's version, warned about when the goalposts moved just before, decided, asked about in hindsight, and shown
//! to the circle for a second opinion.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::json;

use crate::app::reply::{InputStyle, Modal, ModalInput};
use crate::app::{Actor, App, Error, Reply, Result, check_len};
use crate::chat::fit::clip;
use crate::chat::text::{Span, Text, bold, channel, cmd};
use crate::chat::{ChatMessage, Destination, ThreadRef};
use crate::domain::bet::Bet;
use crate::domain::opportunity::{
    CRITERIA, Decision, GOALPOST_DAYS, LIVED, MustHave, Verdict, earlier_reading, hindsight_dates,
    hindsight_mark, must_haves, parse_failed, score, verdict, weighted,
};
use crate::domain::period::local_date;
use crate::spans;
use crate::store::circles::{self as circles_store, Member};
use crate::store::opportunities::{self as store, Evaluation, Hindsight, Stored};
use crate::store::specs::{self, SpecRow};

/// An opinion is a few honest lines; a longer reply is kept to this length.
const OPINION_MAX: usize = 4000;
const NOTE_MAX: usize = 1000;

pub struct Evaluate<'a> {
    pub name: &'a str,
    /// Scores 1-5 in the order of `CRITERIA`: learning, impact, compensation, team, alignment.
    pub scores: [i64; 5],
    /// Numbers of the must-haves this opportunity fails ("2, 3"), or "none".
    pub fails: Option<&'a str>,
    /// core or big-swing.
    pub bet: Option<&'a str>,
}

/// A hindsight answer: how the offer turned out on learning, impact, compensation and team.
pub struct Lived<'a> {
    /// The offer's number from /opportunity list, or its name.
    pub offer: &'a str,
    pub scores: [i64; LIVED],
    pub note: Option<&'a str>,
}

fn verdict_words(v: Verdict) -> &'static str {
    match v {
        Verdict::Closer => "closer to the vision",
        Verdict::Further => "further from the vision",
        Verdict::FailsMustHave => "fails a must-have",
    }
}

fn day(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

/// "✓ 1. No relocation", "✗ 2. …", "? Fridays for family (not assessed)".
fn must_have_line(i: usize, m: &MustHave) -> Vec<Span> {
    match m.passes {
        Some(true) => spans![format!("✓ {}. {}", i + 1, m.text)],
        Some(false) => spans![format!("✗ {}. {}", i + 1, m.text)],
        None => spans![format!(
            "? {}. {} (not in your spec now: not assessed)",
            i + 1,
            m.text
        )],
    }
}

fn musts_from_json(v: &serde_json::Value) -> Vec<MustHave> {
    v.as_array()
        .map(|all| {
            all.iter()
                .map(|m| MustHave {
                    text: m["must_have"].as_str().unwrap_or_default().to_owned(),
                    passes: m["passes"].as_bool(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn musts_to_json(musts: &[MustHave]) -> serde_json::Value {
    json!(
        musts
            .iter()
            .map(|m| json!({"must_have": m.text, "passes": m.passes}))
            .collect::<Vec<_>>()
    )
}

/// The spec in force 14 days before `now` (or the first one, if the spec is younger), when a non-negotiable or the
/// vision differs from the current one: (that version, the date the change was saved, the parts that changed).
fn goalposts_moved(
    versions: &[SpecRow],
    now: DateTime<Utc>,
) -> Option<(&SpecRow, DateTime<Utc>, Vec<&'static str>)> {
    let current = versions.last()?;
    let cutoff = now - Duration::days(GOALPOST_DAYS);
    let before = versions
        .iter()
        .rev()
        .find(|v| v.created_at <= cutoff)
        .or_else(|| versions.first())?;
    let mut parts = Vec::new();
    if before.text.tradeoffs != current.text.tradeoffs {
        parts.push("trade-offs");
    }
    if before.text.vision != current.text.vision {
        parts.push("vision");
    }
    if parts.is_empty() || before.version == current.version {
        return None;
    }
    let changed_at = versions
        .iter()
        .filter(|v| v.version > before.version)
        .find(|v| v.text.tradeoffs != before.text.tradeoffs || v.text.vision != before.text.vision)
        .map(|v| v.created_at)
        .unwrap_or(current.created_at);
    Some((before, changed_at, parts))
}

/// How a member's hindsight compares with what they scored: the mean gap (lived minus scored) per lived criterion,
/// over the offers they answered for (the latest answer of each).
fn calibration(all: &[Stored], lived: &[Hindsight]) -> Option<(usize, [f64; LIVED])> {
    let mut sums = [0.0; LIVED];
    let mut n = 0;
    for s in all {
        let Some(h) = lived
            .iter()
            .filter(|h| h.evaluation_id == s.id)
            .max_by_key(|h| h.months)
        else {
            continue;
        };
        for (i, (key, _, _)) in CRITERIA.iter().take(LIVED).enumerate() {
            let scored = f64::from(s.score(key).unwrap_or(0));
            sums[i] += f64::from(h.scores[i]) - scored;
        }
        n += 1;
    }
    (n > 0).then(|| (n, sums.map(|s| s / n as f64)))
}

/// "Your scores ran high on learning (by 1.0): weigh that in." when a gap is half a point or more.
fn calibration_line(cal: Option<(usize, [f64; LIVED])>) -> Option<Vec<Span>> {
    let (n, gaps) = cal?;
    let notable: Vec<String> = CRITERIA
        .iter()
        .zip(gaps)
        .filter(|(_, g)| g.abs() >= 0.5)
        .map(|((key, _, _), g)| {
            format!(
                "{} on {key} (by {:.1})",
                if g < 0.0 { "high" } else { "low" },
                g.abs()
            )
        })
        .collect();
    if notable.is_empty() {
        return Some(spans![format!(
            "From {n} offer{} you've lived, your scores held up: trust them.",
            if n == 1 { "" } else { "s" }
        )]);
    }
    Some(spans![format!(
        "From {n} offer{} you've lived, your scores ran {}: weigh that in.",
        if n == 1 { "" } else { "s" },
        notable.join(", ")
    )])
}

fn scores_of(s: &Stored) -> String {
    CRITERIA
        .iter()
        .take(LIVED)
        .map(|(k, _, _)| s.score(k).unwrap_or(0).to_string())
        .collect::<Vec<_>>()
        .join("/")
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
        let bet = req
            .bet
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .map(Bet::parse_user)
            .transpose()
            .map_err(Error::user)?;
        let member = self.member(actor).await?;
        self.check_quarter_limit(
            &member,
            "opportunities",
            self.limits.opportunities_per_quarter,
            store::of_member(&self.pool, member.id)
                .await?
                .iter()
                .map(|e| e.e.created_at),
        )
        .await?;
        let versions = specs::history(&self.pool, member.id).await?;
        let spec = versions.last();
        let musts = spec
            .map(|s| must_haves(&s.text.tradeoffs))
            .unwrap_or_default();
        let failed = parse_failed(req.fails.unwrap_or(""), musts.len()).map_err(Error::user)?;
        let total = weighted(&scores);
        let v = verdict(&scores, failed.len());
        let now_musts: Vec<MustHave> = musts
            .iter()
            .enumerate()
            .map(|(i, m)| MustHave {
                text: m.clone(),
                passes: Some(!failed.contains(&(i + 1))),
            })
            .collect();
        let now = self.now();
        let zone = self.zone_of(&member).await?;
        let moved = goalposts_moved(&versions, now).map(|(before, at, parts)| {
            let (musts_then, v_then) =
                earlier_reading(&scores, &musts, &failed, &before.text.tradeoffs);
            (before, at, parts, musts_then, v_then)
        });
        let evaluation = Evaluation {
            name: name.to_owned(),
            must_haves: musts_to_json(&now_musts),
            scores: json!(
                CRITERIA
                    .iter()
                    .zip(scores)
                    .map(|((k, _, _), s)| ((*k).to_owned(), json!(s)))
                    .collect::<serde_json::Map<_, _>>()
            ),
            weighted_score: total,
            verdict: v,
            created_at: now,
            spec_version: spec.map(|s| s.version),
            earlier_reading: moved
                .as_ref()
                .map(|(before, at, parts, musts_then, v_then)| {
                    json!({
                        "version": before.version,
                        "changed_on": local_date(*at, zone),
                        "changed": parts,
                        "must_haves": musts_to_json(musts_then),
                        "verdict": v_then.as_str(),
                        "vision": parts.contains(&"vision").then(|| before.text.vision.clone()),
                    })
                }),
            bet,
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
        if let (Some((before, at, parts, _, _)), Some(current)) = (&moved, spec) {
            let days = (now - *at).num_days();
            text.line(spans![
                bold(format!(
                    "Your {} changed on {}",
                    parts.join(" and "),
                    day(local_date(*at, zone))
                )),
                format!(
                    " ({}, v{} → v{}): evaluated against the new or the old? Both readings are below, so the \
                     goalposts don't quietly move under a tempting offer.",
                    match days {
                        0 => "today".to_owned(),
                        1 => "yesterday".to_owned(),
                        n => format!("{n} days ago"),
                    },
                    before.version,
                    current.version
                )
            ]);
        }
        let mut heading = spans![
            bold(name),
            ": weighted score ",
            bold(format!("{total:.2} / 5"))
        ];
        if let Some(s) = spec {
            heading.push(format!(" (against spec v{})", s.version).into());
        }
        if let Some(b) = bet {
            heading.push(format!(", a {} bet", b.label()).into());
        }
        text.line(heading);
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
            if moved.is_some() {
                text.line(spans![bold(format!(
                    "Against v{} (now): {}",
                    spec.map(|s| s.version).unwrap_or(0),
                    verdict_words(v)
                ))]);
            }
            for (i, m) in now_musts.iter().enumerate() {
                text.line(must_have_line(i, m));
            }
        }
        if let Some((before, at, parts, musts_then, v_then)) = &moved {
            text.line(spans![bold(format!(
                "Against v{} (before {}): {}",
                before.version,
                day(local_date(*at, zone)),
                verdict_words(*v_then)
            ))]);
            if musts_then.is_empty() {
                text.line(spans!["No non-negotiables then."]);
            }
            for (i, m) in musts_then.iter().enumerate() {
                text.line(must_have_line(i, m));
            }
            if parts.contains(&"vision") {
                text.line(spans!["Your vision then:"]);
                text.quote(spans![clip(&before.text.vision, 300)]);
                if let Some(c) = spec {
                    text.line(spans!["and now (alignment was scored against this):"]);
                    text.quote(spans![clip(&c.text.vision, 300)]);
                }
            }
        }
        let all = store::of_member(&self.pool, member.id).await?;
        let lived = store::hindsight_of_member(&self.pool, member.id).await?;
        if let Some(line) = calibration_line(calibration(&all, &lived)) {
            text.line(line);
        }
        text.line(spans![
            "When you decide, ",
            cmd("opportunity decide"),
            " records it; ",
            cmd("opportunity share"),
            " asks your circle for a second opinion."
        ]);
        Ok(Reply::private(self.fit(
            actor,
            text,
            Some("opportunity list"),
        )))
    }

    /// The ledger: every offer side by side, each with the spec version it was scored against, what was decided,
    /// and for taken ones, what they turned out to be.
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
        let lived = store::hindsight_of_member(&self.pool, member.id).await?;
        let opinions = store::opinions_for_member(&self.pool, member.id).await?;
        let mut text = Text::plain(
            "Your offers, side by side, each against the spec in force when you scored it (number, name, date: \
             score, must-haves passed, direction, spec version):",
        );
        for s in all.iter().rev().take(20) {
            let e = &s.e;
            let musts = musts_from_json(&e.must_haves);
            let mut line = format!(
                "#{} {} ({}): {:.2} / 5 · must-haves {} of {} · {} · {}",
                s.number,
                e.name,
                e.created_at.format("%Y-%m-%d"),
                e.weighted_score,
                musts.iter().filter(|m| m.passes == Some(true)).count(),
                musts.len(),
                verdict_words(e.verdict),
                e.spec_version
                    .map_or("no spec yet".to_owned(), |v| format!("spec v{v}"))
            );
            if let Some(r) = &e.earlier_reading {
                line.push_str(&format!(
                    " (v{} of two weeks before read it: {})",
                    r["version"].as_i64().unwrap_or(0),
                    r["verdict"]
                        .as_str()
                        .and_then(|v| v.parse::<Verdict>().ok())
                        .map_or("?", verdict_words)
                ));
            }
            if let Some(b) = e.bet {
                line.push_str(&format!(" · {}", b.label()));
            }
            if let (Some(d), Some(on)) = (s.decision, s.decided_on) {
                line.push_str(&format!(" · {d} {}", on.format("%Y-%m-%d")));
            }
            let mine: Vec<&Hindsight> = lived.iter().filter(|h| h.evaluation_id == s.id).collect();
            if !mine.is_empty() {
                line.push_str(&format!(
                    " · scored {} (learning/impact/compensation/team) vs lived {}",
                    scores_of(s),
                    mine.iter()
                        .map(|h| format!(
                            "{} at {} months",
                            h.scores.map(|v| v.to_string()).join("/"),
                            h.months
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            let n = opinions.iter().filter(|o| o.evaluation_id == s.id).count();
            if n > 0 {
                line.push_str(&format!(
                    " · {n} opinion{} from your circle",
                    if n == 1 { "" } else { "s" }
                ));
            }
            text.item(spans![line]);
        }
        if let Some(line) = calibration_line(calibration(&all, &lived)) {
            text.line(line);
        }
        Ok(Reply::private(self.fit(
            actor,
            text,
            Some("opportunity show"),
        )))
    }

    /// The offer a member names: its number from the list ("2", "#2") or its name (the latest of that name).
    async fn offer_of(&self, member: &Member, which: &str) -> Result<Stored> {
        let all = store::of_member(&self.pool, member.id).await?;
        let w = which.trim();
        if let Ok(n) = w.trim_start_matches('#').parse::<i64>()
            && let Some(s) = all.iter().find(|s| s.number == n)
        {
            return Ok(s.clone());
        }
        all.iter()
            .rev()
            .find(|s| s.e.name.eq_ignore_ascii_case(w))
            .or_else(|| {
                all.iter()
                    .rev()
                    .find(|s| s.e.name.to_lowercase().contains(&w.to_lowercase()))
            })
            .cloned()
            .ok_or_else(|| {
                Error::user(crate::text![
                    format!(
                        "No offer of yours matches \"{}\". ",
                        crate::domain::zone::safe_quote(w)
                    ),
                    cmd("opportunity list"),
                    " shows them with their numbers."
                ])
            })
    }

    /// Records what the member did with an offer; a taken one gets its 6- and 12-month questions.
    pub async fn opportunity_decide(
        &self,
        actor: &Actor,
        offer: &str,
        decision: &str,
    ) -> Result<Reply> {
        let decision: Decision = decision
            .trim()
            .to_ascii_lowercase()
            .parse()
            .map_err(|_| Error::user("Say taken or declined."))?;
        let member = self.member(actor).await?;
        let s = self.offer_of(&member, offer).await?;
        let today = local_date(self.now(), self.zone_of(&member).await?);
        store::decide(&self.pool, member.id, s.id, decision, self.now(), today).await?;
        let reply = Reply::private(match decision {
            Decision::Taken => {
                let [(_, six), (_, twelve)] = hindsight_dates(today);
                crate::text![
                    "Noted: you took ",
                    bold(&s.e.name),
                    format!(
                        ". Congratulations. On {} and again on {} I'll ask whether it delivered the learning, \
                         impact, compensation and team you scored it for, so your next scores learn from this one.",
                        day(six),
                        day(twelve)
                    )
                ]
            }
            Decision::Declined => crate::text![
                "Noted: you declined ",
                bold(&s.e.name),
                ". Its score stays in your ledger, measured against your spec."
            ],
        });
        Ok(match decision {
            // A taken offer is a new role: a major event worth a check-in, and a landing plan.
            Decision::Taken => {
                let mut reply = reply;
                reply.text.blank();
                reply.text.line(spans![
                    "A new role is a major event: ",
                    cmd("checkin event job-change"),
                    " keeps what happened, what you learned and what changes in your spec."
                ]);
                self.offer_landing(reply, today)
            }
            Decision::Declined => reply,
        })
    }

    /// The hindsight answer by command: how a taken offer turned out.
    pub async fn opportunity_lived(&self, actor: &Actor, req: Lived<'_>) -> Result<Reply> {
        let mut scores = [0u8; LIVED];
        for (i, ((key, _, _), value)) in CRITERIA.iter().zip(req.scores).enumerate() {
            scores[i] = score(key, value).map_err(Error::user)?;
        }
        if let Some(n) = req.note {
            check_len("The note", n, NOTE_MAX)?;
        }
        let member = self.member(actor).await?;
        let s = self.offer_of(&member, req.offer).await?;
        let (Some(Decision::Taken), Some(on)) = (s.decision, s.decided_on) else {
            return Err(Error::user(crate::text![
                "Hindsight is for offers you took; mark it with ",
                cmd(format!(
                    "opportunity decide offer:{} decision:taken",
                    s.number
                )),
                " first."
            ]));
        };
        let today = local_date(self.now(), self.zone_of(&member).await?);
        let months = hindsight_mark(on, today).map_err(|at| {
            Error::user(format!(
                "You took it on {}; there's little to tell yet. I'll ask on {}.",
                day(on),
                day(at)
            ))
        })?;
        self.store_lived(&member, &s, months, scores, req.note)
            .await
    }

    async fn store_lived(
        &self,
        member: &Member,
        s: &Stored,
        months: u32,
        scores: [u8; LIVED],
        note: Option<&str>,
    ) -> Result<Reply> {
        store::record_hindsight(
            &self.pool,
            &Hindsight {
                evaluation_id: s.id,
                months,
                scores,
                note: note
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned),
                answered_at: self.now(),
            },
        )
        .await?;
        let gaps: Vec<String> = CRITERIA
            .iter()
            .take(LIVED)
            .zip(scores)
            .filter_map(|((key, _, _), lived)| {
                let scored = s.score(key)?;
                (lived != scored).then(|| {
                    format!(
                        "{key} came in {} {} what you scored",
                        lived.abs_diff(scored),
                        if lived < scored { "below" } else { "above" }
                    )
                })
            })
            .collect();
        let all = store::of_member(&self.pool, member.id).await?;
        let lived = store::hindsight_of_member(&self.pool, member.id).await?;
        let mut text = crate::text![
            format!("Stored: {months} months into "),
            bold(&s.e.name),
            format!(
                ", lived {} against scored {}.",
                scores.map(|v| v.to_string()).join("/"),
                scores_of(s)
            )
        ];
        text.line(spans![if gaps.is_empty() {
            "It delivered what you scored it for.".to_owned()
        } else {
            format!("{}.", capitalise(&gaps.join("; ")))
        }]);
        if let Some(line) = calibration_line(calibration(&all, &lived)) {
            text.line(line);
        }
        Ok(Reply::private(text))
    }

    /// The hindsight DM's button: a form for the four lived scores and a note.
    pub async fn lived_form(
        &self,
        actor: &Actor,
        evaluation_id: i64,
        months: u32,
    ) -> Result<Reply> {
        let (_, s) = self.owned_offer(actor, evaluation_id).await?;
        let caps = self.caps(actor.platform);
        let mut inputs: Vec<ModalInput> = CRITERIA
            .iter()
            .take(LIVED)
            .map(|(key, label, _)| ModalInput {
                custom_id: (*key).to_owned(),
                label: clip(
                    &format!("{label}: 1-5 (scored {})", s.score(key).unwrap_or(0)),
                    caps.input_label_max,
                ),
                style: InputStyle::Short,
                value: None,
                required: true,
                max_len: 1,
            })
            .collect();
        inputs.push(ModalInput {
            custom_id: "note".to_owned(),
            label: clip(
                "What you know now that you didn't then",
                caps.input_label_max,
            ),
            style: InputStyle::Paragraph,
            value: None,
            required: false,
            max_len: u16::try_from(NOTE_MAX.min(caps.form_input_max)).unwrap_or(u16::MAX),
        });
        inputs.truncate(caps.form_inputs_max);
        Ok(Reply::modal(Modal {
            custom_id: format!("cc:livedform:{evaluation_id}:{months}"),
            title: clip(&format!("{} months on", months), caps.form_title_max),
            inputs,
        }))
    }

    pub async fn lived_form_submit(
        &self,
        actor: &Actor,
        evaluation_id: i64,
        months: u32,
        fields: &[(String, String)],
    ) -> Result<Reply> {
        let (member, s) = self.owned_offer(actor, evaluation_id).await?;
        if s.decision != Some(Decision::Taken) {
            return Err(Error::user("That offer is no longer marked taken."));
        }
        let mut scores = [0u8; LIVED];
        for (i, (key, label, _)) in CRITERIA.iter().take(LIVED).enumerate() {
            let typed = fields
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.trim())
                .unwrap_or("");
            let n: i64 = typed.parse().map_err(|_| {
                Error::user(format!(
                    "{label} takes a score from 1 to 5; press the button again."
                ))
            })?;
            scores[i] = score(label, n).map_err(Error::user)?;
        }
        let note = fields
            .iter()
            .find(|(k, _)| k == "note")
            .map(|(_, v)| v.as_str());
        if let Some(n) = note {
            check_len("The note", n.trim(), NOTE_MAX)?;
        }
        let months = if months == 12 { 12 } else { 6 };
        self.store_lived(&member, &s, months, scores, note).await
    }

    /// An evaluation of one of the actor's members (a button forwarded to someone else acts on nothing of theirs).
    async fn owned_offer(&self, actor: &Actor, evaluation_id: i64) -> Result<(Member, Stored)> {
        for m in circles_store::members_of_user(&self.pool, actor.platform, &actor.user_id).await? {
            if let Some(s) = store::of_member(&self.pool, m.id)
                .await?
                .into_iter()
                .find(|s| s.id == evaluation_id)
            {
                return Ok((m, s));
            }
        }
        Err(Error::user(
            "That button belongs to someone else's offer, or it no longer exists.",
        ))
    }

    /// One offer in full: both readings when the goalposts moved, the decision, hindsight and the circle's opinions.
    pub async fn opportunity_show(&self, actor: &Actor, offer: &str) -> Result<Reply> {
        let member = self.member(actor).await?;
        let s = self.offer_of(&member, offer).await?;
        let e = &s.e;
        let mut text = crate::text![
            bold(format!("#{} {}", s.number, e.name)),
            format!(
                ", scored {}: {:.2} / 5, {}{}",
                e.created_at.format("%Y-%m-%d"),
                e.weighted_score,
                verdict_words(e.verdict),
                e.spec_version
                    .map_or(String::new(), |v| format!(", against spec v{v}"))
            )
        ];
        let scores: Vec<String> = CRITERIA
            .iter()
            .map(|(k, label, _)| format!("{label} {}", s.score(k).unwrap_or(0)))
            .collect();
        text.item(spans![scores.join(" · ")]);
        for (i, m) in musts_from_json(&e.must_haves).iter().enumerate() {
            text.line(must_have_line(i, m));
        }
        if let Some(r) = &e.earlier_reading {
            text.line(spans![bold(format!(
                "Against v{} (the spec of two weeks before; {} changed on {}): {}",
                r["version"].as_i64().unwrap_or(0),
                r["changed"]
                    .as_array()
                    .map(|a| a
                        .iter()
                        .filter_map(|v| v.as_str())
                        .collect::<Vec<_>>()
                        .join(" and "))
                    .unwrap_or_default(),
                r["changed_on"].as_str().unwrap_or("?"),
                r["verdict"]
                    .as_str()
                    .and_then(|v| v.parse::<Verdict>().ok())
                    .map_or("?", verdict_words)
            ))]);
            for (i, m) in musts_from_json(&r["must_haves"]).iter().enumerate() {
                text.line(must_have_line(i, m));
            }
        }
        if let (Some(d), Some(on)) = (s.decision, s.decided_on) {
            text.line(spans![format!("You {d} it on {}.", day(on))]);
        }
        for h in store::hindsight_of_member(&self.pool, member.id)
            .await?
            .iter()
            .filter(|h| h.evaluation_id == s.id)
        {
            text.item(spans![format!(
                "{} months on: lived {} against scored {}{}",
                h.months,
                h.scores.map(|v| v.to_string()).join("/"),
                scores_of(&s),
                h.note
                    .as_deref()
                    .map_or(String::new(), |n| format!(" ({})", clip(n, 200)))
            )]);
        }
        let opinions: Vec<_> = store::opinions_for_member(&self.pool, member.id)
            .await?
            .into_iter()
            .filter(|o| o.evaluation_id == s.id)
            .collect();
        if !opinions.is_empty() {
            text.line(spans!["What your circle said:"]);
            for o in opinions {
                text.line(spans![
                    bold(&o.author_name),
                    format!(": {}", clip(&o.text, 400))
                ]);
            }
        }
        Ok(Reply::private(self.fit(actor, text, None)))
    }

    /// Asks a circle for a second opinion: the evaluation is posted to the circle's home channel (compensation left
    /// out unless the member chooses), and replies to that post are kept as opinions on it.
    pub async fn opportunity_share(
        &self,
        actor: &Actor,
        offer: &str,
        with_compensation: bool,
        circle: Option<&str>,
    ) -> Result<Reply> {
        let member = self.member(actor).await?;
        let s = self.offer_of(&member, offer).await?;
        let (circle, _) = self.circle_of(&member, circle).await?;
        let Some(chat) = self.chat(actor.platform) else {
            return Err(Error::user(
                "I can't post to your circle's channel from here; try again from the server.",
            ));
        };
        if let Some((_, _, _, at)) = store::shares_of_member(&self.pool, member.id)
            .await?
            .into_iter()
            .find(|(e, c, _, _)| *e == s.id && *c == circle.id)
        {
            return Err(Error::user(crate::text![
                format!(
                    "You asked {} about {} on {}; ",
                    circle.name,
                    s.e.name,
                    at.format("%Y-%m-%d")
                ),
                cmd(format!("opportunity show offer:{}", s.number)),
                " shows what they said."
            ]));
        }
        let e = &s.e;
        let mut text = crate::text![
            bold(&member.display_name),
            " asks the circle for a second opinion on an offer: ",
            bold(&e.name),
            format!(
                " (scored {}{}).",
                e.created_at.format("%Y-%m-%d"),
                e.spec_version
                    .map_or(String::new(), |v| format!(" against their spec v{v}"))
            )
        ];
        let scores: Vec<String> = CRITERIA
            .iter()
            .filter(|(k, _, _)| with_compensation || *k != "compensation")
            .map(|(k, label, _)| format!("{label} {}", s.score(k).unwrap_or(0)))
            .collect();
        text.item(spans![format!("Their scores, 1-5: {}", scores.join(" · "))]);
        if with_compensation {
            text.item(spans![format!(
                "Weighted score: {:.2} / 5",
                e.weighted_score
            )]);
        }
        text.item(spans![format!("Their read: {}", verdict_words(e.verdict))]);
        let musts = musts_from_json(&e.must_haves);
        if !musts.is_empty() {
            text.item(spans![format!(
                "Must-haves: {}",
                musts
                    .iter()
                    .map(|m| format!(
                        "{} {}",
                        if m.passes == Some(false) {
                            "✗"
                        } else {
                            "✓"
                        },
                        m.text
                    ))
                    .collect::<Vec<_>>()
                    .join(" · ")
            )]);
        }
        text.line(spans![
            "Reply to this message with your honest read: does it move them toward their 5-year vision or away?"
        ]);
        let caps = chat.capabilities();
        let text = crate::chat::fit::shorten(text, caps, None);
        let posted = chat
            .send(
                &Destination::Channel {
                    channel_id: circle.home_channel_id.clone(),
                },
                &ChatMessage::text(text),
                Some(&format!("o{}c{}", s.id, circle.id)),
            )
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "posting a second-opinion request failed");
                Error::user("I couldn't post in the circle's channel just now; please try again in a minute.")
            })?;
        store::record_share(
            &self.pool,
            s.id,
            circle.id,
            &posted.channel_id,
            &posted.message_id,
            with_compensation,
            self.now(),
        )
        .await?;
        Ok(Reply::private(crate::text![
            "Posted to ",
            channel(&posted.channel_id),
            format!(
                " {}: replies to it are kept as opinions on {}; ",
                if with_compensation {
                    "with your compensation score"
                } else {
                    "without compensation"
                },
                e.name
            ),
            cmd(format!("opportunity show offer:{}", s.number)),
            " shows them."
        ]))
    }

    /// A reply in a circle's channel to a shared evaluation: stored as a circle-mate's opinion on it.
    pub(crate) async fn second_opinion_reply(
        &self,
        actor: &Actor,
        place: &ThreadRef,
        message_id: &str,
        content: &str,
        reply_to: Option<&str>,
    ) -> Result<bool> {
        let Some(reply_to) = reply_to else {
            return Ok(false);
        };
        if content.trim().is_empty() {
            return Ok(false);
        }
        let Some(share) = store::share_by_message(&self.pool, &place.channel_id, reply_to).await?
        else {
            return Ok(false);
        };
        let author = self.member(actor).await?;
        if author.id == share.owner_id {
            return Ok(false);
        }
        let members = circles_store::members_of_circle(&self.pool, share.circle_id).await?;
        if !members.iter().any(|m| m.member_id == author.id) {
            return Ok(false);
        }
        Ok(store::add_opinion(
            &self.pool,
            share.evaluation_id,
            author.id,
            &place.channel_id,
            message_id,
            &clip(content.trim(), OPINION_MAX),
            self.now(),
        )
        .await?)
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
