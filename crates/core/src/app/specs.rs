//! /spec edit, show, history, diff, phase, visibility.

use crate::app::reply::{InputStyle, Modal, ModalInput};
use crate::app::{Actor, App, Error, Reply, Result};
use crate::domain::spec::{FIELD_MAX, PARTS, Phase, SpecText, Visibility};
use crate::store::circles::{self as circles_store, Member};
use crate::store::specs::{self as store, SpecRow};

fn text_of(row: &SpecRow) -> SpecText {
    SpecText {
        vision: row.vision.clone(),
        milestones_1y: row.milestones_1y.clone(),
        milestones_3y: row.milestones_3y.clone(),
        milestones_5y: row.milestones_5y.clone(),
        skills: row.skills.clone(),
        metrics: row.metrics.clone(),
        tradeoffs: row.tradeoffs.clone(),
    }
}

fn show(owner: &str, row: &SpecRow) -> String {
    let text = text_of(row);
    let mut out = format!(
        "**{owner}'s career spec** (version {}, {} phase since {}, visible to {}):\n",
        row.version,
        row.phase,
        row.phase_since.format("%Y-%m-%d"),
        if row.visibility == "circle" {
            "the circle"
        } else {
            "you only"
        }
    );
    for ((_, label), (_, value)) in PARTS.iter().zip(text.parts()) {
        let value = if value.trim().is_empty() {
            "(not written yet)".to_owned()
        } else {
            value
        };
        out.push_str(&format!(
            "**{label}**\n{}\n",
            crate::schedule::render::truncate(&value, 350)
        ));
    }
    out
}

impl App {
    /// The edit form, pre-filled with the current version.
    pub async fn spec_edit(&self, actor: &Actor) -> Result<Reply> {
        let member = self.member(actor).await?;
        let current = store::current(&self.pool, member.id)
            .await?
            .map(|r| text_of(&r))
            .unwrap_or_default();
        let inputs = PARTS
            .iter()
            .zip(current.parts())
            .map(|((key, label), (_, value))| ModalInput {
                custom_id: (*key).to_owned(),
                label: (*label).to_owned(),
                style: InputStyle::Paragraph,
                value: Some(value).filter(|v| !v.is_empty()),
                required: *key == "vision",
                max_len: u16::try_from(FIELD_MAX).unwrap_or(4000),
            })
            .collect();
        Ok(Reply::modal(Modal {
            custom_id: "cc:specform".to_owned(),
            title: "Your career spec".to_owned(),
            inputs,
        }))
    }

    /// Saves the form as a new version; phase and visibility carry over.
    pub async fn spec_save(&self, actor: &Actor, fields: &[(String, String)]) -> Result<Reply> {
        let text = SpecText::from_fields(fields).map_err(Error::user)?;
        let member = self.member(actor).await?;
        let before = store::current(&self.pool, member.id).await?;
        if let Some(b) = &before
            && text_of(b) == text
        {
            return Ok(Reply::private(format!(
                "Nothing changed; your spec stays at version {}.",
                b.version
            )));
        }
        let now = self.now();
        let row = SpecRow {
            vision: text.vision,
            milestones_1y: text.milestones_1y,
            milestones_3y: text.milestones_3y,
            milestones_5y: text.milestones_5y,
            skills: text.skills,
            metrics: text.metrics,
            tradeoffs: text.tradeoffs,
            phase: before
                .as_ref()
                .map(|b| b.phase.clone())
                .unwrap_or_else(|| "learning".to_owned()),
            phase_since: before.as_ref().map(|b| b.phase_since).unwrap_or(now),
            visibility: before
                .as_ref()
                .map(|b| b.visibility.clone())
                .unwrap_or_else(|| "private".to_owned()),
            ..SpecRow::default()
        };
        let version = store::save(&self.pool, member.id, &row, now).await?;
        Ok(Reply::private(format!(
            "Saved version {version} of your career spec. `/spec show` to read it, `/spec history` for earlier versions{}.",
            if row.visibility == "private" {
                "; it's private until you run `/spec visibility circle`"
            } else {
                ""
            }
        )))
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
                "You haven't written a spec yet. `/spec edit` opens the form.".to_owned()
            } else {
                format!("{} hasn't shared a spec.", owner.display_name)
            }));
        };
        let shared = row.visibility == "circle" && self.share_a_circle(&me, &owner).await?;
        if !own && !shared {
            return Err(Error::user(format!(
                "{} hasn't shared a spec.",
                owner.display_name
            )));
        }
        Ok(Reply::private(show(&owner.display_name, &row)))
    }

    async fn share_a_circle(&self, a: &Member, b: &Member) -> Result<bool> {
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
            return Err(Error::user(
                "You haven't written a spec yet. `/spec edit` opens the form.",
            ));
        }
        let mut text = String::from("Your spec versions:\n");
        for v in versions.iter().rev().take(20) {
            text.push_str(&format!(
                "• v{} saved {} ({} phase)\n",
                v.version,
                v.created_at.format("%Y-%m-%d %H:%M UTC"),
                v.phase
            ));
        }
        Ok(Reply::private(text))
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
        let changes = text_of(a).diff(&text_of(b));
        if changes.is_empty() {
            return Ok(Reply::private(format!("v{from} and v{to} say the same.")));
        }
        let mut text = format!("Changes from v{from} to v{to}:\n");
        for (key, before, after) in changes {
            let label = PARTS
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, l)| *l)
                .unwrap_or(key);
            text.push_str(&format!(
                "**{label}**\n- {}\n+ {}\n",
                crate::schedule::render::truncate(&before, 250),
                crate::schedule::render::truncate(&after, 250)
            ));
        }
        Ok(Reply::private(crate::schedule::render::truncate(
            &text,
            crate::app::MESSAGE_MAX,
        )))
    }

    pub async fn spec_phase(&self, actor: &Actor, phase: &str) -> Result<Reply> {
        let phase = Phase::parse(phase).map_err(Error::user)?;
        self.spec_update(actor, |row, now| {
            if row.phase != phase.as_str() {
                row.phase = phase.as_str().to_owned();
                row.phase_since = now;
            }
        })
        .await?;
        Ok(Reply::private(format!(
            "You're in a **{phase}** phase now. {}",
            match phase {
                Phase::Learning => "Stretch: roles you're not yet qualified for are the point.",
                Phase::Impact =>
                    "Use your expertise for maximum results, and make them attributable.",
            }
        )))
    }

    pub async fn spec_visibility(&self, actor: &Actor, visibility: &str) -> Result<Reply> {
        let visibility = Visibility::parse(visibility).map_err(Error::user)?;
        self.spec_update(actor, |row, _| {
            row.visibility = visibility.as_str().to_owned()
        })
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
        let mut row = store::current(&self.pool, member.id)
            .await?
            .unwrap_or(SpecRow {
                phase: "learning".to_owned(),
                phase_since: now,
                visibility: "private".to_owned(),
                ..SpecRow::default()
            });
        change(&mut row, now);
        store::save(&self.pool, member.id, &row, now).await?;
        Ok(())
    }
}
