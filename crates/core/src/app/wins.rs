//! /win add and /win list: a running record of accomplishments, in outcome terms, with "I" not "we".

use crate::app::{Actor, App, Error, Reply, Result, check_len};
use crate::chat::fit::clip;
use crate::chat::text::{Text, cmd, link};
use crate::domain::narrative::Serves;
use crate::domain::period::{Period, local_date};
use crate::schedule::review::load::bounds;
use crate::spans;
use crate::store::wins;

impl App {
    pub async fn win_add(&self, actor: &Actor, text: &str, link: Option<&str>) -> Result<Reply> {
        self.win_add_bet(actor, text, link, None).await
    }

    /// A win tagged as a bet: `core` or `big-swing`.
    pub async fn win_add_bet(
        &self,
        actor: &Actor,
        text: &str,
        link: Option<&str>,
        bet: Option<&str>,
    ) -> Result<Reply> {
        self.win_add_with(actor, text, link, bet, None).await
    }

    /// A win, its bet, and the milestone or skill it serves (already found in the spec).
    pub(crate) async fn win_add_with(
        &self,
        actor: &Actor,
        text: &str,
        link: Option<&str>,
        bet: Option<&str>,
        serves: Option<(Serves, &str)>,
    ) -> Result<Reply> {
        let bet = bet
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .map(crate::domain::bet::Bet::parse_user)
            .transpose()
            .map_err(Error::user)?;
        let text = text.trim();
        if text.is_empty() {
            return Err(Error::user(crate::text![
                "What did you win? e.g. ",
                cmd("win add text:I shipped the pricing page and cut churn 4%")
            ]));
        }
        check_len("A win", text, 1000)?;
        let link = match link.map(str::trim).filter(|l| !l.is_empty()) {
            Some(l) if l.starts_with("https://") || l.starts_with("http://") => Some(l),
            Some(l) => {
                return Err(Error::user(format!(
                    "\"{}\" doesn't look like a link.",
                    clip(l, 40)
                )));
            }
            None => None,
        };
        let member = self.member(actor).await?;
        self.check_quarter_limit(
            &member,
            "wins",
            self.limits.wins_per_quarter,
            wins::all(&self.pool, member.id)
                .await?
                .iter()
                .map(|w| w.created_at),
        )
        .await?;
        wins::add(&self.pool, member.id, text, link, self.now(), bet, serves).await?;
        let mut reply = Reply::private(
            "Logged. Wins you can attribute are wins you keep: they'll be in your next review post.",
        );
        // A win that is a major event gets the event's short retrospective offered.
        if let Some(kind) = crate::domain::narrative::event_in_words(text) {
            let word = crate::domain::narrative::EVENT_CHOICES
                .iter()
                .find(|c| c.replace('-', "_") == kind.as_str())
                .copied()
                .unwrap_or("other");
            reply.text.line(crate::spans![
                format!("A {} is a major event: ", kind.label()),
                cmd(format!("checkin event {word}")),
                " keeps what happened, what you learned and what changes in your spec."
            ]);
        }
        Ok(reply)
    }

    pub async fn win_list(&self, actor: &Actor, quarter: Option<&str>) -> Result<Reply> {
        let member = self.member(actor).await?;
        let zone = self.zone_of(&member).await?;
        let q = match quarter.map(str::trim).filter(|q| !q.is_empty()) {
            Some(q) => match Period::parse_user(q).map_err(|e| Error::user(e.to_string()))? {
                p @ Period::Quarter { .. } => p,
                _ => return Err(Error::user("Name a quarter, like Q1 2027.")),
            },
            None => Period::containing_quarter(local_date(self.now(), zone)),
        };
        let (from, to) = bounds(q, zone);
        let list = wins::between(&self.pool, member.id, from, to).await?;
        if list.is_empty() {
            return Ok(Reply::private(crate::text![
                format!("No wins logged for {} yet. ", q.label()),
                cmd("win add"),
                " when something lands."
            ]));
        }
        let mut text = Text::plain(format!("Your wins in {}:", q.label()));
        for w in list {
            let mut line = spans![format!(
                "{}: {}",
                w.created_at.with_timezone(&zone.tz()).format("%b %-d"),
                clip(&w.text, 300)
            )];
            if let Some(l) = w.link {
                line.extend(spans![" (", link(l.clone(), l), ")"]);
            }
            text.item(line);
        }
        Ok(Reply::private(self.fit(actor, text, None)))
    }
}
