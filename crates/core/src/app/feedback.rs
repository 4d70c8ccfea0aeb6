//! Feedback that is acted on: `/review feedback` lists what a member received (review threads and private notes),
//! `/review mark` records adopt / experiment until a quarter / set aside, tagged to a part of the spec and maybe
//! contradicting another piece; `/review feedback-for` sends feedback in private, anonymously where allowed.

use crate::app::{Actor, App, Error, Reply, Result, check_len};
use crate::chat::fit::clip;
use crate::chat::text::{Text, bold, cmd};
use crate::chat::{ChatMessage, Destination};
use crate::domain::membership::Role;
use crate::domain::narrative::Decision;
use crate::domain::period::{Period, local_date};
use crate::schedule::review::load::bounds;
use crate::spans;
use crate::store::circles as circles_store;
use crate::store::feedback::{self as store, Mark, Piece};
use crate::store::reviews;

/// Feedback is a few honest lines.
const FEEDBACK_MAX: usize = 4000;
const REASON_MAX: usize = 1000;
/// Pieces one `/review feedback` lists.
const SHOWN: usize = 15;

/// The parts of the spec feedback can be tagged to.
pub const PARTS: &[&str] = &["vision", "milestones", "skills", "metrics", "tradeoffs"];

/// "Ann" or "someone (anonymous)": the only way a piece's author is ever shown.
pub fn author_words(p: &Piece) -> String {
    p.author
        .clone()
        .unwrap_or_else(|| "Someone in your circle (anonymous)".to_owned())
}

/// "adopted", "experiment until Q3 2027 (skills)", with the reason.
pub fn mark_words(m: &Mark) -> String {
    let mut s = m.decision.label().to_owned();
    if let Some(q) = m.until {
        s.push_str(&format!(" until {}", q.label()));
    }
    if let Some(p) = &m.part {
        s.push_str(&format!(", on your {p}"));
    }
    if let Some(r) = &m.reason {
        s.push_str(&format!(": {}", clip(r, 200)));
    }
    s
}

pub struct MarkRequest<'a> {
    pub number: i64,
    pub decision: &'a str,
    pub until: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub part: Option<&'a str>,
    pub contradicts: Option<i64>,
}

impl App {
    /// The feedback a member received: a quarter's (its review thread and private notes sent in it, default the
    /// latest review), numbered as `/review mark` reads them, with what they decided.
    pub async fn review_feedback(
        &self,
        actor: &Actor,
        quarter: Option<&str>,
        circle: Option<&str>,
    ) -> Result<Reply> {
        let member = self.member(actor).await?;
        let (circle, _) = self.circle_of(&member, circle).await?;
        let zone = self.zone_of(&member).await?;
        let all = store::received(&self.pool, member.id).await?;
        let wanted = match quarter.map(str::trim).filter(|q| !q.is_empty()) {
            Some(q) => vec![Period::parse_user(q).map_err(|e| Error::user(e.to_string()))?],
            None => {
                let now = Period::containing_quarter(local_date(self.now(), zone));
                vec![now, now.prev()]
            }
        };
        for q in wanted {
            let has_thread = reviews::find(&self.pool, circle.id, q).await?.is_some();
            let (from, to) = bounds(q, zone);
            let mine: Vec<(usize, &Piece)> = all
                .iter()
                .enumerate()
                .filter(|(_, p)| p.circle_id == circle.id)
                .filter(|(_, p)| match p.quarter {
                    Some(pq) => pq == q,
                    None => p.created_at >= from && p.created_at < to,
                })
                .collect();
            if !has_thread && mine.is_empty() {
                continue;
            }
            if mine.is_empty() {
                return Ok(Reply::private(format!(
                    "No feedback for you in the {} review yet.",
                    q.label()
                )));
            }
            let mut text = Text::plain(format!("Feedback for you in the {} review:", q.label()));
            for (i, p) in mine.iter().rev().take(SHOWN).rev() {
                let answering = p
                    .answers
                    .and_then(|a| all.iter().position(|x| x.r == a))
                    .map_or(String::new(), |n| format!(" (answering {})", n + 1));
                let private = if p.quarter.is_none() {
                    " (in private)"
                } else {
                    ""
                };
                let mut line = spans![
                    format!("{}. ", i + 1),
                    bold(author_words(p)),
                    format!("{private}{answering}: {}", clip(&p.text, 400))
                ];
                if let Some(m) = &p.mark {
                    line.push(format!(" → {}", mark_words(m)).into());
                }
                text.line(line);
            }
            text.blank();
            text.line(spans![
                "Act on it: ",
                cmd("review mark feedback:1 decision:adopt"),
                ", experiment until a quarter, or set aside with a reason. Contradicting pieces on one part of \
                 your spec come back at your next check-in."
            ]);
            return Ok(Reply::private(self.fit(actor, text, None)));
        }
        Ok(Reply::private("There's no review for that quarter yet."))
    }

    /// What the member decided about one piece they received.
    pub async fn review_mark(&self, actor: &Actor, req: MarkRequest<'_>) -> Result<Reply> {
        let decision = Decision::parse_user(req.decision).map_err(Error::user)?;
        let member = self.member(actor).await?;
        let all = store::received(&self.pool, member.id).await?;
        let piece = |n: i64| {
            usize::try_from(n)
                .ok()
                .and_then(|n| n.checked_sub(1))
                .and_then(|i| all.get(i))
                .ok_or_else(|| {
                    Error::user(crate::text![
                        format!("You've received {} pieces of feedback; ", all.len()),
                        cmd("review feedback"),
                        " shows their numbers."
                    ])
                })
        };
        let p = piece(req.number)?;
        let until = match (decision, req.until.map(str::trim).filter(|u| !u.is_empty())) {
            (Decision::Experiment, Some(u)) => {
                match Period::parse_user(u).map_err(|e| Error::user(e.to_string()))? {
                    q @ Period::Quarter { .. } => {
                        let now = Period::containing_quarter(local_date(
                            self.now(),
                            self.zone_of(&member).await?,
                        ));
                        if q <= now {
                            return Err(Error::user(
                                "An experiment runs until a later quarter, e.g. until:\"Q3 2027\".",
                            ));
                        }
                        Some(q)
                    }
                    _ => return Err(Error::user("Name a quarter, like Q3 2027.")),
                }
            }
            (Decision::Experiment, None) => {
                return Err(Error::user(
                    "Until when? An experiment names the quarter it's followed up in: until:\"Q3 2027\".",
                ));
            }
            (_, Some(_)) => {
                return Err(Error::user("Only an experiment runs until a quarter."));
            }
            (_, None) => None,
        };
        let reason = req.reason.map(str::trim).filter(|r| !r.is_empty());
        if let Some(r) = reason {
            check_len("The reason", r, REASON_MAX)?;
        }
        if decision == Decision::SetAside && reason.is_none() {
            return Err(Error::user(
                "Setting feedback aside is fine; say why in reason:, so future you remembers.",
            ));
        }
        let part = match req.part.map(|p| p.trim().to_ascii_lowercase()) {
            Some(p) if PARTS.contains(&p.as_str()) => Some(p),
            Some(p) if p.is_empty() => None,
            None => None,
            Some(p) => {
                return Err(Error::user(format!(
                    "\"{}\" is not a part of the spec; choose {}.",
                    clip(&p, 40),
                    PARTS.join(", ")
                )));
            }
        };
        let contradicts = match req.contradicts {
            Some(n) if n == req.number => {
                return Err(Error::user("A piece can't contradict itself."));
            }
            Some(n) => Some(piece(n)?.r),
            None => None,
        };
        if contradicts.is_some() && part.is_none() {
            return Err(Error::user(
                "Tag the part of your spec both pieces pull on (part:skills, say), so your check-in can ask about it.",
            ));
        }
        let mark = Mark {
            decision,
            until,
            reason: reason.map(str::to_owned),
            part,
            contradicts,
            marked_at: self.now(),
        };
        store::mark(&self.pool, member.id, p.r, &mark).await?;
        let mut text = crate::text![
            format!("Feedback {} from ", req.number),
            bold(author_words(p)),
            format!(": {}.", mark_words(&mark))
        ];
        if let Some(q) = until {
            text.line(spans![format!(
                "I'll ask how the experiment went at your {} check-in.",
                q.label()
            )]);
        }
        if let Some(n) = req.contradicts {
            text.line(spans![format!(
                "Marked as pulling against feedback {n}: your next check-in quotes both and asks what you decided."
            )]);
        }
        Ok(Reply::private(self.fit(actor, text, None)))
    }

    /// `/review feedback-for @member`: feedback in private, delivered by DM; without the author's name where the
    /// circle allows it.
    pub async fn feedback_for(
        &self,
        actor: &Actor,
        subject_user: &str,
        text: &str,
        anonymous: bool,
        circle: Option<&str>,
    ) -> Result<Reply> {
        let text = text.trim();
        if text.is_empty() {
            return Err(Error::user(
                "What would you like them to hear? A few honest lines are plenty.",
            ));
        }
        check_len("Feedback", text, FEEDBACK_MAX)?;
        if subject_user == actor.user_id {
            return Err(Error::user(
                "Feedback to yourself belongs in your check-in.",
            ));
        }
        let (author, circle) = match actor.server {
            Some(_) => {
                let author = self.member(actor).await?;
                let (circle, _) = self.circle_of(&author, circle).await?;
                (author, circle)
            }
            None => self.circle_shared_with(actor, subject_user, circle).await?,
        };
        let members = circles_store::members_of_circle(&self.pool, circle.id).await?;
        let subject = members
            .iter()
            .find(|m| m.platform_user_id == subject_user)
            .ok_or_else(|| {
                Error::user(crate::text![
                    "They're not in ",
                    bold(&circle.name),
                    "; feedback goes to circle-mates."
                ])
            })?;
        if anonymous && !store::anonymous_allowed(&self.pool, circle.id).await? {
            return Err(Error::user(crate::text![
                bold(&circle.name),
                " doesn't take anonymous feedback; an organiser decides that. You can send it with your name."
            ]));
        }
        let Some(chat) = self.chat(actor.platform) else {
            return Err(Error::user(
                "I can't reach them from here just now; please try again in a minute.",
            ));
        };
        store::add_private(
            &self.pool,
            author.id,
            subject.member_id,
            circle.id,
            anonymous,
            text,
            self.now(),
        )
        .await?;
        let from = if anonymous {
            crate::text![
                "Someone in ",
                bold(&circle.name),
                " sent you feedback, without their name:"
            ]
        } else {
            crate::text![bold(&author.display_name), " sent you feedback in private:"]
        };
        let mut dm = from;
        dm.quote(spans![clip(text, FEEDBACK_MAX)]);
        dm.line(spans![
            "It's in ",
            cmd("review feedback"),
            ", where you can adopt it, try it as an experiment, or set it aside."
        ]);
        let caps = chat.capabilities();
        if let Err(e) = chat
            .send(
                &Destination::Dm {
                    user_id: subject.platform_user_id.clone(),
                },
                &ChatMessage::text(crate::chat::fit::shorten(dm, caps, None)),
                None,
            )
            .await
        {
            // Stored either way: it is in their /review feedback.
            tracing::warn!(error = %e, "delivering private feedback failed");
        }
        Ok(Reply::private(crate::text![
            "Sent to ",
            bold(&subject.display_name),
            if anonymous {
                " without your name. Nobody, organisers included, will see it was you."
            } else {
                " in private."
            }
        ]))
    }

    /// In a DM with the bot (no server): the reader's record and the circle they share with the member, on any
    /// server of this platform; the circle named, or the only one.
    async fn circle_shared_with(
        &self,
        actor: &Actor,
        subject_user: &str,
        name: Option<&str>,
    ) -> Result<(circles_store::Member, circles_store::Circle)> {
        let name = name.map(str::trim).filter(|n| !n.is_empty());
        let mut shared = Vec::new();
        for m in circles_store::members_of_user(&self.pool, actor.platform, &actor.user_id).await? {
            for (c, _) in circles_store::circles_of_member(&self.pool, m.id).await? {
                if name.is_some_and(|n| !c.name.eq_ignore_ascii_case(n)) {
                    continue;
                }
                if circles_store::members_of_circle(&self.pool, c.id)
                    .await?
                    .iter()
                    .any(|x| x.platform_user_id == subject_user)
                {
                    shared.push((m.clone(), c));
                }
            }
        }
        match shared.len() {
            0 => Err(Error::user(
                "You're not in a circle with them; feedback goes to circle-mates.",
            )),
            1 => Ok(shared.remove(0)),
            _ => Err(Error::user(format!(
                "You share several circles with them ({}); say which with the circle option.",
                shared
                    .iter()
                    .map(|(_, c)| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// Organisers: whether readers may send feedback without their name.
    pub(crate) async fn set_anonymous_feedback(
        &self,
        actor: &Actor,
        circle: Option<&str>,
        value: &str,
    ) -> Result<Reply> {
        let member = self.member(actor).await?;
        let (circle, role) = self.circle_of(&member, circle).await?;
        if role != Role::Organiser {
            return Err(Error::user(crate::text![
                "Only organisers of ",
                bold(&circle.name),
                " can change its settings."
            ]));
        }
        let allowed = match value.trim().to_ascii_lowercase().as_str() {
            "allowed" | "on" => true,
            "off" => false,
            _ => return Err(Error::user("Say off or allowed.")),
        };
        store::set_anonymous(&self.pool, circle.id, allowed).await?;
        Ok(Reply::private(crate::text![
            bold(&circle.name),
            if allowed {
                ": readers may now send private feedback without their name. Their name is never shown to anyone."
            } else {
                ": private feedback now always carries its author's name."
            }
        ]))
    }
}
