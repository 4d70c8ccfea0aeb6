//! /spec edit, show, history, diff, phase, visibility.

use crate::app::reply::{InputStyle, Modal, ModalInput};
use crate::app::{Actor, App, Error, Reply, Result};
use crate::chat::fit::clip;
use crate::chat::text::{Text, bold, cmd};
use crate::domain::spec::{FIELD_MAX, PARTS, Phase, SpecText, Visibility};
use crate::spans;
use crate::store::circles::{self as circles_store, Member};
use crate::store::specs::{self as store, SpecRow};

/// Each part of the spec as shown; the whole part is in the form and the export.
const PART_SHOWN: usize = 350;
const DIFF_SHOWN: usize = 250;

fn show(owner: &str, row: &SpecRow) -> Text {
    let mut out = crate::text![
        bold(format!("{owner}'s career spec")),
        format!(
            " (version {}, {} phase since {}, visible to {}):",
            row.version,
            row.phase,
            row.phase_since.format("%Y-%m-%d"),
            match row.visibility {
                Visibility::Circle => "the circle",
                Visibility::Private => "you only",
            }
        )
    ];
    for ((_, label), (_, value)) in PARTS.iter().zip(row.text.parts()) {
        let value = if value.trim().is_empty() {
            "(not written yet)".to_owned()
        } else {
            clip(&value, PART_SHOWN)
        };
        out.line(spans![bold(*label)]);
        out.line(spans![value]);
    }
    out
}

impl App {
    /// The edit form, pre-filled with the current version. A platform whose inputs hold less than a part does not
    /// get a shortened part to save over the whole one: the member is told to shorten it first.
    pub async fn spec_edit(&self, actor: &Actor) -> Result<Reply> {
        let member = self.member(actor).await?;
        let caps = self.caps(actor.platform);
        let current = store::current(&self.pool, member.id)
            .await?
            .map(|r| r.text)
            .unwrap_or_default();
        let input_max = FIELD_MAX.min(caps.form_input_max);
        if let Some((key, n)) = current
            .parts()
            .iter()
            .map(|(k, v)| (*k, v.chars().count()))
            .find(|(_, n)| *n > input_max)
        {
            let label = PARTS
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, l)| *l)
                .unwrap_or(key);
            return Err(Error::user(format!(
                "Your \"{label}\" is {n} characters, more than this chat's forms hold ({input_max}). Shorten it \
                 where you wrote it (a longer form elsewhere), or export it with /me export first."
            )));
        }
        let inputs = PARTS
            .iter()
            .zip(current.parts())
            .take(caps.form_inputs_max)
            .map(|((key, label), (_, value))| ModalInput {
                custom_id: (*key).to_owned(),
                label: clip(label, caps.input_label_max),
                style: InputStyle::Paragraph,
                value: Some(value).filter(|v| !v.is_empty()),
                required: *key == "vision",
                max_len: u16::try_from(input_max).unwrap_or(u16::MAX),
            })
            .collect();
        Ok(Reply::modal(Modal {
            custom_id: "cc:specform".to_owned(),
            title: clip("Your career spec", caps.form_title_max),
            inputs,
        }))
    }

    /// Saves the form as a new version; phase and visibility carry over. Only the parts the form held change.
    pub async fn spec_save(&self, actor: &Actor, fields: &[(String, String)]) -> Result<Reply> {
        let member = self.member(actor).await?;
        let before = store::current(&self.pool, member.id).await?;
        let mut merged: Vec<(String, String)> = before
            .as_ref()
            .map(|b| {
                b.text
                    .parts()
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect()
            })
            .unwrap_or_default();
        for (key, value) in fields {
            match merged.iter_mut().find(|(k, _)| k == key) {
                Some(slot) => slot.1 = value.clone(),
                None => merged.push((key.clone(), value.clone())),
            }
        }
        let text = SpecText::from_fields(&merged).map_err(Error::user)?;
        if let Some(b) = &before
            && b.text == text
        {
            return Ok(Reply::private(format!(
                "Nothing changed; your spec stays at version {}.",
                b.version
            )));
        }
        let now = self.now();
        let row = SpecRow {
            text,
            ..before.clone().unwrap_or_else(|| SpecRow::empty(now))
        };
        let version = store::save(&self.pool, member.id, &row, now).await?;
        let mut line = spans![
            format!("Saved version {version} of your career spec. "),
            cmd("spec show"),
            " to read it, ",
            cmd("spec history"),
            " for earlier versions"
        ];
        if row.visibility == Visibility::Private {
            line.extend(spans![
                "; it's private until you run ",
                cmd("spec visibility circle")
            ]);
        }
        line.push(".".into());
        let mut text = Text::new();
        text.line(line);
        Ok(Reply::private(text))
    }

    /// Shows a spec: one's own always; another member's only if they share it with a circle both are in.
    pub async fn spec_show(&self, actor: &Actor, other_user_id: Option<&str>) -> Result<Reply> {
        let me = self.member(actor).await?;
        let (owner, own) = match other_user_id.filter(|id| *id != actor.user_id) {
            None => (me.clone(), true),
            Some(id) => {
                let other = circles_store::find_member(&self.pool, me.server_id, id)
                    .await?
                    .ok_or_else(|| Error::user("That member hasn't used career-circle here."))?;
                (other, false)
            }
        };
        let Some(row) = store::current(&self.pool, owner.id).await? else {
            return Err(Error::user(if own {
                crate::text![
                    "You haven't written a spec yet. ",
                    cmd("spec edit"),
                    " opens the form."
                ]
            } else {
                Text::plain(format!("{} hasn't shared a spec.", owner.display_name))
            }));
        };
        let shared =
            row.visibility == Visibility::Circle && self.share_a_circle(&me, &owner).await?;
        if !own && !shared {
            return Err(Error::user(format!(
                "{} hasn't shared a spec.",
                owner.display_name
            )));
        }
        Ok(Reply::private(self.fit(
            actor,
            show(&owner.display_name, &row),
            None,
        )))
    }

    pub(crate) async fn share_a_circle(&self, a: &Member, b: &Member) -> Result<bool> {
        let mine = circles_store::circles_of_member(&self.pool, a.id).await?;
        let theirs = circles_store::circles_of_member(&self.pool, b.id).await?;
        Ok(mine
            .iter()
            .any(|(c, _)| theirs.iter().any(|(d, _)| d.id == c.id)))
    }

    pub async fn spec_history(&self, actor: &Actor) -> Result<Reply> {
        let member = self.member(actor).await?;
        let versions = store::history(&self.pool, member.id).await?;
        if versions.is_empty() {
            return Err(Error::user(crate::text![
                "You haven't written a spec yet. ",
                cmd("spec edit"),
                " opens the form."
            ]));
        }
        let mut text = Text::plain("Your spec versions:");
        for v in versions.iter().rev().take(20) {
            text.item(spans![format!(
                "v{} saved {} ({} phase)",
                v.version,
                v.created_at.format("%Y-%m-%d %H:%M UTC"),
                v.phase
            )]);
        }
        Ok(Reply::private(self.fit(actor, text, None)))
    }

    /// What changed between two versions (default: the previous and the current).
    pub async fn spec_diff(
        &self,
        actor: &Actor,
        from: Option<i64>,
        to: Option<i64>,
    ) -> Result<Reply> {
        let member = self.member(actor).await?;
        let versions = store::history(&self.pool, member.id).await?;
        let last = versions.last().map(|v| i64::from(v.version)).unwrap_or(0);
        if last < 2 && from.is_none() {
            return Err(Error::user(
                "There is only one version so far; edit your spec to have something to compare.",
            ));
        }
        let to = to.unwrap_or(last);
        let from = from.unwrap_or(to - 1);
        let find = |n: i64| versions.iter().find(|v| i64::from(v.version) == n);
        let (Some(a), Some(b)) = (find(from), find(to)) else {
            return Err(Error::user(format!("Versions run from 1 to {last}.")));
        };
        let changes = a.text.diff(&b.text);
        if changes.is_empty() {
            return Ok(Reply::private(format!("v{from} and v{to} say the same.")));
        }
        let mut text = Text::plain(format!("Changes from v{from} to v{to}:"));
        for (key, before, after) in changes {
            let label = PARTS
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, l)| *l)
                .unwrap_or(key);
            text.line(spans![bold(label)]);
            text.line(spans![format!("- {}", clip(&before, DIFF_SHOWN))]);
            text.line(spans![format!("+ {}", clip(&after, DIFF_SHOWN))]);
        }
        Ok(Reply::private(self.fit(actor, text, None)))
    }

    pub async fn spec_phase(&self, actor: &Actor, phase: &str) -> Result<Reply> {
        let phase = Phase::parse(phase).map_err(Error::user)?;
        self.spec_update(actor, |row, now| {
            if row.phase != phase {
                row.phase = phase;
                row.phase_since = now;
            }
        })
        .await?;
        Ok(Reply::private(crate::text![
            "You're in your ",
            bold(phase.as_str()),
            format!(
                " phase now. {}",
                match phase {
                    Phase::Learning => "Stretch: roles you're not yet qualified for are the point.",
                    Phase::Impact =>
                        "Use your expertise for maximum results, and make them attributable.",
                }
            )
        ]))
    }

    /// "Established in my role": with no big swing in two years, the deep dive asks about one.
    pub async fn spec_established(&self, actor: &Actor, established: &str) -> Result<Reply> {
        let established = match established.trim().to_ascii_lowercase().as_str() {
            "yes" | "true" | "y" => true,
            "no" | "false" | "n" => false,
            _ => return Err(Error::user("Say yes or no.")),
        };
        self.spec_update(actor, |row, _| row.established = established)
            .await?;
        Ok(Reply::private(if established {
            "Noted: you're established in your role. Once established, a big swing every two or three years keeps \
             the portfolio honest; the deep dive will ask if two years pass without one."
        } else {
            "Noted: you're not established in your role yet. Core bets build the credibility a big swing draws on."
        }))
    }

    pub async fn spec_visibility(&self, actor: &Actor, visibility: &str) -> Result<Reply> {
        let visibility = Visibility::parse(visibility).map_err(Error::user)?;
        self.spec_update(actor, |row, _| row.visibility = visibility)
            .await?;
        Ok(Reply::private(match visibility {
            Visibility::Private => "Your spec is private: only you can see it.",
            Visibility::Circle => {
                "Your spec is visible to the members of your circles (never outside this server)."
            }
        }))
    }

    async fn spec_update(
        &self,
        actor: &Actor,
        change: impl FnOnce(&mut SpecRow, chrono::DateTime<chrono::Utc>),
    ) -> Result<()> {
        let member = self.member(actor).await?;
        let now = self.now();
        let before = store::current(&self.pool, member.id).await?;
        let mut row = before.clone().unwrap_or_else(|| SpecRow::empty(now));
        change(&mut row, now);
        // Nothing changed, no new version: the history lists changes, not every press of a command.
        if before.is_some_and(|b| {
            b.phase == row.phase
                && b.visibility == row.visibility
                && b.established == row.established
        }) {
            return Ok(());
        }
        store::save(&self.pool, member.id, &row, now).await?;
        Ok(())
    }
}
