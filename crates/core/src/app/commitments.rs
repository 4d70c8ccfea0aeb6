//! /commit add, list, done, drop, and the nudge's Done and Skip buttons.

use crate::app::{Actor, App, Error, Reply, Result, check_len};
use crate::chat::text::{Span, Text, bold, cmd};
use crate::domain::bet::Bet;
use crate::domain::commitment::{MarkStatus, Title, record};
use crate::domain::period::{Cadence, Period, local_date};
use crate::spans;
use crate::store::circles::Member;
use crate::store::commitments::{self as store, Commitment, marks_of};

pub struct Done<'a> {
    /// The commitment's number or title; optional when the member has only one.
    pub commitment: Option<&'a str>,
    pub link: Option<&'a str>,
    pub note: Option<&'a str>,
}

fn link(text: Option<&str>) -> Result<Option<String>> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(l)
            if (l.starts_with("https://") || l.starts_with("http://"))
                && !l.contains(char::is_whitespace) =>
        {
            check_len("The link", l, 500)?;
            Ok(Some(l.to_owned()))
        }
        Some(l) => Err(Error::user(format!(
            "\"{l}\" doesn't look like a link; it should start with https://."
        ))),
    }
}

impl App {
    pub async fn commit_add(
        &self,
        actor: &Actor,
        title: &str,
        cadence: Option<&str>,
    ) -> Result<Reply> {
        self.commit_add_bet(actor, title, cadence, None).await
    }

    /// A commitment tagged as a bet: `core` or `big-swing`.
    pub async fn commit_add_bet(
        &self,
        actor: &Actor,
        title: &str,
        cadence: Option<&str>,
        bet: Option<&str>,
    ) -> Result<Reply> {
        let title = Title::parse(title).map_err(Error::user)?;
        let bet = bet
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .map(Bet::parse_user)
            .transpose()
            .map_err(Error::user)?;
        let cadence = match cadence {
            Some(c) if !c.trim().is_empty() => {
                Cadence::parse(c).map_err(|e| Error::user(e.to_string()))?
            }
            _ => Cadence::Monthly,
        };
        let member = self.member(actor).await?;
        let open = store::open_of_member(&self.pool, member.id).await?;
        if open
            .iter()
            .any(|c| c.title.eq_ignore_ascii_case(title.as_str()))
        {
            return Err(Error::user(format!(
                "You already have \"{}\" open.",
                title.as_str()
            )));
        }
        let max = self.limits.open_commitments;
        if open.len() >= usize::try_from(max).unwrap_or(usize::MAX) {
            return Err(Error::user(crate::text![
                format!(
                    "You have {} open commitments, the most this community allows. Drop one with ",
                    open.len()
                ),
                cmd("commit drop"),
                " before adding another."
            ]));
        }
        let today = local_date(self.now(), self.zone_of(&member).await?);
        let c = store::add(
            &self.pool,
            member.id,
            title.as_str(),
            cadence,
            today,
            self.now(),
            bet,
        )
        .await?;
        let mut text = crate::text![
            "Committed: ",
            bold(&c.title),
            format!(" ({cadence}). I'll nudge you each period; mark it with "),
            cmd("commit done"),
            " or the Done button."
        ];
        if bet == Some(Bet::BigSwing) {
            text.line(spans![
                "A big swing: most fail, and that's the deal. If it stops making sense, close it with ",
                cmd("commit kill"),
                " and a short post-mortem; it counts as kept, not missed."
            ]);
        }
        Ok(Reply::private(text))
    }

    pub async fn commit_list(&self, actor: &Actor) -> Result<Reply> {
        let member = self.member(actor).await?;
        let open = store::open_of_member(&self.pool, member.id).await?;
        if open.is_empty() {
            return Ok(Reply::private(crate::text![
                "No open commitments. The classic: ",
                cmd("commit add title:publish one post"),
                "."
            ]));
        }
        let mut text = Text::plain("Your commitments:");
        for line in self.describe_commitments(&member, &open).await? {
            text.line(line);
        }
        Ok(Reply::private(self.fit(actor, text, None)))
    }

    /// "1. publish one post (monthly): done this month; streak 3, kept 5, missed 1, skipped 0", one line each.
    pub(crate) async fn describe_commitments(
        &self,
        member: &Member,
        open: &[Commitment],
    ) -> Result<Vec<Vec<Span>>> {
        let today = local_date(self.now(), self.zone_of(member).await?);
        let marks = store::periods_of_member(&self.pool, member.id).await?;
        let mut lines = Vec::new();
        for (i, c) in open.iter().enumerate() {
            let m = marks_of(&marks, c.id);
            let current = Period::of(c.cadence, today);
            let rec = record(c.first_period(), current, &m);
            let now_done = m.status(current) == Some(MarkStatus::Done);
            lines.push(spans![
                format!("{}. ", i + 1),
                bold(&c.title),
                format!(
                    " ({}): {} this {}; streak {}, kept {}, missed {}, skipped {}",
                    c.cadence,
                    if now_done { "done" } else { "not done yet" },
                    match c.cadence {
                        Cadence::Weekly => "week",
                        Cadence::Monthly => "month",
                        Cadence::Quarterly => "quarter",
                    },
                    rec.streak,
                    rec.kept,
                    rec.missed,
                    rec.skipped
                )
            ]);
        }
        Ok(lines)
    }

    async fn pick(&self, member: &Member, which: Option<&str>) -> Result<Commitment> {
        let open = store::open_of_member(&self.pool, member.id).await?;
        let which = which.map(str::trim).filter(|w| !w.is_empty());
        match which {
            None => match open.as_slice() {
                [] => Err(Error::user(crate::text![
                    "You have no open commitments. Add one with ",
                    cmd("commit add"),
                    "."
                ])),
                [one] => Ok(one.clone()),
                _ => Err(Error::user(crate::text![
                    "You have several commitments; say which (its number from ",
                    cmd("commit list"),
                    ", or its title)."
                ])),
            },
            Some(w) => {
                if let Ok(n) = w.parse::<usize>()
                    && let Some(c) = n.checked_sub(1).and_then(|i| open.get(i))
                {
                    return Ok(c.clone());
                }
                open.iter()
                    .find(|c| c.title.eq_ignore_ascii_case(w))
                    .or_else(|| {
                        open.iter()
                            .find(|c| c.title.to_lowercase().contains(&w.to_lowercase()))
                    })
                    .cloned()
                    .ok_or_else(|| {
                        Error::user(crate::text![
                            format!("No open commitment matches \"{w}\". "),
                            cmd("commit list"),
                            " shows them."
                        ])
                    })
            }
        }
    }

    /// Marks the current period of the member's local calendar; a second done in a period updates it.
    pub async fn commit_done(&self, actor: &Actor, req: Done<'_>) -> Result<Reply> {
        let link = link(req.link)?;
        if let Some(n) = req.note {
            check_len("The note", n, 1000)?;
        }
        let member = self.member(actor).await?;
        let c = self.pick(&member, req.commitment).await?;
        let period = Period::of(
            c.cadence,
            local_date(self.now(), self.zone_of(&member).await?),
        );
        self.mark(
            &member,
            &c,
            period,
            MarkStatus::Done,
            link.as_deref(),
            req.note,
        )
        .await
    }

    pub async fn commit_drop(&self, actor: &Actor, which: Option<&str>) -> Result<Reply> {
        let member = self.member(actor).await?;
        let c = self.pick(&member, which).await?;
        store::drop_commitment(&self.pool, member.id, c.id, self.now()).await?;
        Ok(Reply::private(crate::text![
            "Dropped ",
            bold(&c.title),
            ". Its record stays in your history."
        ]))
    }

    /// Closes a big swing that didn't work with a short post-mortem. Its record counts it as kept, not missed.
    pub async fn commit_kill(
        &self,
        actor: &Actor,
        which: Option<&str>,
        postmortem: &str,
    ) -> Result<Reply> {
        let postmortem = postmortem.trim();
        if postmortem.is_empty() {
            return Err(Error::user(
                "A few lines of post-mortem, please: what did you try, what did you learn?",
            ));
        }
        check_len("The post-mortem", postmortem, 1000)?;
        let member = self.member(actor).await?;
        let c = self.pick(&member, which).await?;
        if c.bet != Some(Bet::BigSwing) {
            return Err(Error::user(crate::text![
                "Only a big swing is killed with a post-mortem; ",
                cmd("commit drop"),
                " closes any other commitment."
            ]));
        }
        let period = Period::of(
            c.cadence,
            local_date(self.now(), self.zone_of(&member).await?),
        );
        store::kill(&self.pool, member.id, c.id, period, postmortem, self.now()).await?;
        let marks = store::periods_of_member(&self.pool, member.id).await?;
        let rec = record(c.first_period(), period, &marks_of(&marks, c.id));
        Ok(Reply::private(crate::text![
            "Closed the big swing ",
            bold(&c.title),
            format!(
                " with your post-mortem. It counts as kept, not missed: kept {}, missed {}. Swinging is the point; \
                 the next one is better informed.",
                rec.kept, rec.missed
            )
        ]))
    }

    /// The Done / Skip buttons of a nudge, which name the commitment and period they were sent for.
    /// `member` comes from the button's owner: a button in someone else's DM cannot mark another's commitment.
    pub async fn commit_button(
        &self,
        member: &Member,
        commitment_id: i64,
        period: &str,
        skip: bool,
    ) -> Result<Reply> {
        let c = store::by_id(&self.pool, member.id, commitment_id)
            .await?
            .ok_or_else(|| Error::user("That commitment is not yours or no longer exists."))?;
        let period =
            Period::parse_key(period).map_err(|_| Error::user("That button is out of date."))?;
        self.mark(
            member,
            &c,
            period,
            if skip {
                MarkStatus::Skipped
            } else {
                MarkStatus::Done
            },
            None,
            None,
        )
        .await
    }

    async fn mark(
        &self,
        member: &Member,
        c: &Commitment,
        period: Period,
        status: MarkStatus,
        link: Option<&str>,
        note: Option<&str>,
    ) -> Result<Reply> {
        store::mark_period(&self.pool, c.id, period, status, self.now(), link, note).await?;
        let label = period.label();
        if status == MarkStatus::Skipped {
            return Ok(Reply::private(crate::text![
                "Skipped ",
                bold(&c.title),
                format!(" for {label}. No guilt; see you next time.")
            ]));
        }
        let mut text = crate::text![
            "Nice work! ",
            bold(&c.title),
            format!(" is done for {label}.")
        ];
        for line in self
            .describe_commitments(member, std::slice::from_ref(c))
            .await?
        {
            text.line(line);
        }
        Ok(Reply::private(text))
    }

    /// The link of a "done <link>" DM, if it carries one.
    pub(crate) fn link_of_done(text: &str) -> Result<Option<String>> {
        let rest = text.trim().get(4..).unwrap_or_default().trim();
        link(
            rest.split_whitespace()
                .next()
                .filter(|w| w.starts_with("http")),
        )
    }

    /// The monthly commitment a "done" DM marks, and the member's current month.
    pub(crate) async fn monthly_for_done(&self, member: &Member) -> Result<(Commitment, Period)> {
        let open: Vec<_> = store::open_of_member(&self.pool, member.id)
            .await?
            .into_iter()
            .filter(|c| c.cadence == Cadence::Monthly)
            .collect();
        let c = match open.as_slice() {
            [] => {
                return Err(Error::user(
                    "You have no open monthly commitment to mark done.",
                ));
            }
            [one] => one.clone(),
            _ => {
                return Err(Error::user(crate::text![
                    "You have several monthly commitments; press the Done button for the one you mean, or use ",
                    cmd("commit done"),
                    "."
                ]));
            }
        };
        let period = Period::containing_month(local_date(self.now(), self.zone_of(member).await?));
        Ok((c, period))
    }

    /// The link already recorded for a commitment's period, when it was marked done.
    pub(crate) async fn done_link(
        &self,
        member: &Member,
        c: &Commitment,
        period: Period,
    ) -> Result<Option<Option<String>>> {
        Ok(store::periods_of_member(&self.pool, member.id)
            .await?
            .into_iter()
            .find(|m| m.commitment_id == c.id && m.period == period && m.status == MarkStatus::Done)
            .map(|m| m.link))
    }

    /// "done <link>" as a DM reply to a nudge.
    pub async fn commit_done_by_reply(
        &self,
        _actor: &Actor,
        member: &Member,
        text: &str,
    ) -> Result<Reply> {
        let link = Self::link_of_done(text)?;
        let (c, period) = self.monthly_for_done(member).await?;
        self.mark(member, &c, period, MarkStatus::Done, link.as_deref(), None)
            .await
    }
}
