//! /commit add, list, done, drop, and the nudge's Done and Skip buttons.

use std::collections::BTreeSet;

use crate::app::{Actor, App, Error, Reply, Result, check_len};
use crate::domain::commitment::{Title, record};
use crate::domain::period::{Cadence, Period, local_date};
use crate::store::circles::Member;
use crate::store::commitments::{self as store, Commitment};

pub struct Done<'a> {
    /// The commitment's number or title; optional when the member has only one.
    pub commitment: Option<&'a str>,
    pub link: Option<&'a str>,
    pub note: Option<&'a str>,
}

fn cadence_of(c: &Commitment) -> Cadence {
    Cadence::parse(&c.cadence).unwrap_or(Cadence::Monthly)
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
        let title = Title::parse(title).map_err(Error::user)?;
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
        if open.len() >= 10 {
            return Err(Error::user(
                "Ten open commitments is plenty; drop one before adding another.",
            ));
        }
        let today = local_date(self.now(), self.zone_of(&member).await?);
        let c = store::add(
            &self.pool,
            member.id,
            title.as_str(),
            cadence.as_str(),
            today,
            self.now(),
        )
        .await?;
        Ok(Reply::private(format!(
            "Committed: **{}** ({}). I'll nudge you each period; mark it with `/commit done` or the Done button.",
            c.title,
            cadence.as_str()
        )))
    }

    pub async fn commit_list(&self, actor: &Actor) -> Result<Reply> {
        let member = self.member(actor).await?;
        let open = store::open_of_member(&self.pool, member.id).await?;
        if open.is_empty() {
            return Ok(Reply::private(
                "No open commitments. The classic: `/commit add title:publish one post`.",
            ));
        }
        let lines = self.describe_commitments(&member, &open).await?;
        Ok(Reply::private(format!(
            "Your commitments:\n{}",
            lines.join("\n")
        )))
    }

    pub(crate) async fn describe_commitments(
        &self,
        member: &Member,
        open: &[Commitment],
    ) -> Result<Vec<String>> {
        let today = local_date(self.now(), self.zone_of(member).await?);
        let marks = store::periods_of_member(&self.pool, member.id).await?;
        let mut lines = Vec::new();
        for (i, c) in open.iter().enumerate() {
            let cadence = cadence_of(c);
            let set = |status: &str| -> BTreeSet<Period> {
                marks
                    .iter()
                    .filter(|m| m.commitment_id == c.id && m.status == status)
                    .filter_map(|m| Period::parse_key(&m.period).ok())
                    .collect()
            };
            let current = Period::of(cadence, today);
            let rec = record(
                Period::of(cadence, c.started_on),
                current,
                &set("done"),
                &set("skipped"),
            );
            let now_done = set("done").contains(&current);
            lines.push(format!(
                "{}. **{}** ({}): {} this {}; streak {}, kept {}, missed {}, skipped {}",
                i + 1,
                c.title,
                cadence.as_str(),
                if now_done { "done" } else { "not done yet" },
                match cadence {
                    Cadence::Weekly => "week",
                    Cadence::Monthly => "month",
                    Cadence::Quarterly => "quarter",
                },
                rec.streak,
                rec.kept,
                rec.missed,
                rec.skipped
            ));
        }
        Ok(lines)
    }

    async fn pick(&self, member: &Member, which: Option<&str>) -> Result<Commitment> {
        let open = store::open_of_member(&self.pool, member.id).await?;
        let which = which.map(str::trim).filter(|w| !w.is_empty());
        match which {
            None => match open.as_slice() {
                [] => Err(Error::user(
                    "You have no open commitments. Add one with `/commit add`.",
                )),
                [one] => Ok(one.clone()),
                _ => Err(Error::user(
                    "You have several commitments; say which (its number from `/commit list`, or its title).",
                )),
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
                        Error::user(format!(
                            "No open commitment matches \"{w}\". `/commit list` shows them."
                        ))
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
            cadence_of(&c),
            local_date(self.now(), self.zone_of(&member).await?),
        );
        self.mark(
            &member,
            &c,
            &period.key(),
            "done",
            link.as_deref(),
            req.note,
        )
        .await
    }

    pub async fn commit_drop(&self, actor: &Actor, which: Option<&str>) -> Result<Reply> {
        let member = self.member(actor).await?;
        let c = self.pick(&member, which).await?;
        store::drop_commitment(&self.pool, member.id, c.id, self.now()).await?;
        Ok(Reply::private(format!(
            "Dropped **{}**. Its record stays in your history.",
            c.title
        )))
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
        Period::parse_key(period).map_err(|_| Error::user("That button is out of date."))?;
        self.mark(
            member,
            &c,
            period,
            if skip { "skipped" } else { "done" },
            None,
            None,
        )
        .await
    }

    async fn mark(
        &self,
        member: &Member,
        c: &Commitment,
        period: &str,
        status: &str,
        link: Option<&str>,
        note: Option<&str>,
    ) -> Result<Reply> {
        store::mark_period(&self.pool, c.id, period, status, self.now(), link, note).await?;
        let label = Period::parse_key(period)
            .map(|p| p.label())
            .unwrap_or_else(|_| period.to_owned());
        if status == "skipped" {
            return Ok(Reply::private(format!(
                "Skipped **{}** for {label}. No guilt; see you next time.",
                c.title
            )));
        }
        let open = vec![c.clone()];
        let line = self.describe_commitments(member, &open).await?.join("");
        Ok(Reply::private(format!(
            "Nice work! **{}** is done for {label}.\n{line}",
            c.title
        )))
    }

    /// "done <link>" as a DM reply to a nudge.
    pub async fn commit_done_by_reply(&self, member: &Member, text: &str) -> Result<Reply> {
        let rest = text.trim()[4..].trim();
        let link = link(
            rest.split_whitespace()
                .next()
                .filter(|w| w.starts_with("http")),
        )?;
        let open: Vec<_> = store::open_of_member(&self.pool, member.id)
            .await?
            .into_iter()
            .filter(|c| c.cadence == "monthly")
            .collect();
        let c = match open.as_slice() {
            [] => {
                return Err(Error::user(
                    "You have no open monthly commitment to mark done.",
                ));
            }
            [one] => one.clone(),
            _ => {
                return Err(Error::user(
                    "You have several monthly commitments; press the Done button for the one you mean, or use `/commit done`.",
                ));
            }
        };
        let period = Period::containing_month(local_date(self.now(), self.zone_of(member).await?));
        self.mark(member, &c, &period.key(), "done", link.as_deref(), None)
            .await
    }
}
