//! The quarterly scorecard: /metric add, remove, list; the check-in's Scorecard form and its DM reply syntax
//! (`metric posts: 3`, `milestone 1y: on track`); /spec scorecard with its table and chart.

use crate::app::replies::OpenCheckin;
use crate::app::reply::{InputStyle, Modal, ModalInput};
use crate::app::{Actor, App, Error, Reply, Result};
use crate::chat::fit::clip;
use crate::chat::text::{Text, bold, cmd, code};
use crate::chat::{Attachment, Button, ButtonStyle};
use crate::domain::action::Action;
use crate::domain::period::{Period, local_date};
use crate::domain::scorecard::{
    self as domain, Horizon, METRICS_MAX, MetricKind, MilestoneStatus, ScoreLine, ValueType,
    milestones,
};
use crate::domain::spec::{SpecText, Visibility};
use crate::schedule::{chart, scorecard as card};
use crate::spans;
use crate::store::circles::{self as circles_store, Member};
use crate::store::scorecard::{self as store, Metric};
use crate::store::specs;

pub struct MetricAdd<'a> {
    pub name: &'a str,
    pub value_type: &'a str,
    pub kind: &'a str,
    pub target: Option<&'a str>,
    pub private: bool,
}

/// The custom id of a milestone's input in the form.
fn milestone_input(h: Horizon) -> String {
    format!("ms{}", h.as_str())
}

/// What was stored from a form or a reply, and what could not be.
#[derive(Default)]
struct Stored {
    done: Vec<String>,
    problems: Vec<String>,
}

impl App {
    pub async fn metric_add(&self, actor: &Actor, req: MetricAdd<'_>) -> Result<Reply> {
        let name = domain::name(req.name).map_err(Error::user)?;
        let value_type = ValueType::parse_user(req.value_type).map_err(Error::user)?;
        let kind = MetricKind::parse_user(req.kind).map_err(Error::user)?;
        let target = req
            .target
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| value_type.read(t))
            .transpose()
            .map_err(|e| Error::user(format!("The target: {e}")))?;
        let member = self.member(actor).await?;
        let existing = store::metrics_of(&self.pool, member.id, false).await?;
        if existing.len() >= METRICS_MAX {
            return Err(Error::user(format!(
                "{METRICS_MAX} metrics is plenty for a scorecard read at a glance; remove one first."
            )));
        }
        let Some(m) = store::add_metric(
            &self.pool,
            member.id,
            &name,
            value_type,
            kind,
            target,
            req.private,
            self.now(),
        )
        .await?
        else {
            return Err(Error::user(format!(
                "You already track \"{name}\"; remove it first to change it."
            )));
        };
        let spec = specs::current(&self.pool, member.id).await?;
        let mut text = crate::text![
            "Added ",
            bold(&m.name),
            format!(
                " to your scorecard: {}.",
                &card::describe(&m)[m.name.len() + 1..]
            )
        ];
        text.line(spans![
            "Each quarter's check-in asks for it; any time, reply to me ",
            code(format!("metric {}: {}", m.name, example(value_type))),
            "."
        ]);
        if m.private {
            text.line(spans!["It stays private: only you see it."]);
        } else if spec.is_none_or(|s| s.visibility == Visibility::Private) {
            text.line(spans![
                "Your spec is private, so the scorecard is too until you run ",
                cmd("spec visibility circle"),
                "."
            ]);
        } else {
            text.line(spans![
                "Your circle sees it in your review post, as your spec is shared."
            ]);
        }
        Ok(Reply::private(text))
    }

    pub async fn metric_remove(&self, actor: &Actor, name: &str) -> Result<Reply> {
        let member = self.member(actor).await?;
        match store::remove_metric(&self.pool, member.id, name.trim(), self.now()).await? {
            Some(m) => Ok(Reply::private(crate::text![
                "Removed ",
                bold(&m.name),
                " from your scorecard; its history stays in ",
                cmd("spec scorecard"),
                "."
            ])),
            None => Err(Error::user(crate::text![
                format!(
                    "You have no metric called \"{}\". ",
                    crate::domain::zone::safe_quote(name.trim())
                ),
                cmd("metric list"),
                " shows them."
            ])),
        }
    }

    pub async fn metric_list(&self, actor: &Actor) -> Result<Reply> {
        let member = self.member(actor).await?;
        let all = store::metrics_of(&self.pool, member.id, false).await?;
        if all.is_empty() {
            return Ok(Reply::private(crate::text![
                "No metrics yet. Turn your spec's metrics into a scorecard, e.g. ",
                cmd("metric add name:posts type:count kind:leading target:3"),
                "."
            ]));
        }
        let mut text = Text::plain("Your scorecard's metrics:");
        for m in &all {
            text.item(spans![
                bold(&m.name),
                format!(" {}", &card::describe(m)[m.name.len() + 1..])
            ]);
        }
        Ok(Reply::private(self.fit(
            actor,
            text,
            Some("spec scorecard"),
        )))
    }

    /// The check-in prompt's Scorecard button: a form with the quarter's metric values and milestone statuses,
    /// the unanswered ones first (a platform whose forms hold fewer inputs gets the rest on the next press).
    pub async fn scorecard_form(
        &self,
        actor: &Actor,
        member: &Member,
        circle_id: i64,
        period: &str,
    ) -> Result<Reply> {
        let quarter = quarter_of(period)?;
        let caps = self.caps(actor.platform);
        let metrics = store::metrics_of(&self.pool, member.id, false).await?;
        let values = store::values_of(&self.pool, member.id).await?;
        let checks = store::milestones_of(&self.pool, member.id).await?;
        let spec = specs::current(&self.pool, member.id)
            .await?
            .map(|s| s.text)
            .unwrap_or_default();
        let mut inputs: Vec<(bool, ModalInput)> = Vec::new();
        for m in &metrics {
            let now = values
                .iter()
                .find(|v| v.metric_id == m.id && v.quarter == quarter)
                .map(|v| m.value_type.show(v.value));
            let mut label = format!("{} ({}", m.name, m.value_type.hint());
            if let Some(t) = m.target {
                label.push_str(&format!(", target {}", m.value_type.show(t)));
            }
            label.push(')');
            inputs.push((
                now.is_some(),
                ModalInput {
                    custom_id: format!("m{}", m.id),
                    label: clip(&label, caps.input_label_max),
                    style: InputStyle::Short,
                    value: now.map(|v| v.trim_end_matches("/5").to_owned()),
                    required: false,
                    max_len: 20,
                },
            ));
        }
        for (h, text) in milestones(&spec) {
            let now = checks
                .iter()
                .find(|c| c.horizon == h && c.quarter == quarter)
                .map(|c| c.status.label().to_owned());
            inputs.push((
                now.is_some(),
                ModalInput {
                    custom_id: milestone_input(h),
                    label: clip(
                        &format!("{}: {}", h.label(), first_line(text)),
                        caps.input_label_max,
                    ),
                    style: InputStyle::Short,
                    value: now,
                    required: false,
                    max_len: 20,
                },
            ));
        }
        if inputs.is_empty() {
            return Err(Error::user(crate::text![
                "Your scorecard is empty: add a metric with ",
                cmd("metric add"),
                " or milestones with ",
                cmd("spec edit"),
                "."
            ]));
        }
        // Unanswered first; the sort is stable, so each group keeps the spec's order.
        inputs.sort_by_key(|(answered, _)| *answered);
        Ok(Reply::modal(Modal {
            custom_id: format!("cc:scoreform:{circle_id}:{}", quarter.key()),
            title: clip(
                &format!("Scorecard {}", quarter.label()),
                caps.form_title_max,
            ),
            inputs: inputs
                .into_iter()
                .map(|(_, i)| i)
                .take(caps.form_inputs_max)
                .collect(),
        }))
    }

    pub async fn scorecard_form_submit(
        &self,
        _actor: &Actor,
        member: &Member,
        circle_id: i64,
        period: &str,
        fields: &[(String, String)],
    ) -> Result<Reply> {
        let quarter = quarter_of(period)?;
        let metrics = store::metrics_of(&self.pool, member.id, false).await?;
        let spec = specs::current(&self.pool, member.id)
            .await?
            .map(|s| s.text)
            .unwrap_or_default();
        let mut out = Stored::default();
        for (key, value) in fields {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            if let Some(id) = key.strip_prefix("m").and_then(|i| i.parse::<i64>().ok())
                && let Some(m) = metrics.iter().find(|m| m.id == id)
            {
                self.store_metric(m, quarter, value, &mut out).await?;
            } else if let Some(h) = key
                .strip_prefix("ms")
                .and_then(|h| h.parse::<Horizon>().ok())
            {
                self.store_milestone(member, &spec, quarter, h, value, &mut out)
                    .await?;
            }
        }
        let remaining = self.unanswered(member, &spec, quarter).await?;
        let mut text = summary(quarter, &out);
        let mut buttons = Vec::new();
        if remaining > 0 || !out.problems.is_empty() {
            text.line(spans![format!(
                "{remaining} still to fill in. Press {} again for the rest.",
                "Scorecard"
            )]);
            buttons.push(Button {
                custom_id: Action::Scorecard {
                    circle_id,
                    period: quarter.key(),
                }
                .custom_id(),
                label: "Scorecard".to_owned(),
                style: ButtonStyle::Primary,
            });
        }
        Ok(Reply::private(text).with_buttons(buttons))
    }

    /// Metrics and milestones with nothing recorded for the quarter.
    async fn unanswered(&self, member: &Member, spec: &SpecText, quarter: Period) -> Result<usize> {
        let metrics = store::metrics_of(&self.pool, member.id, false).await?;
        let values = store::values_of(&self.pool, member.id).await?;
        let checks = store::milestones_of(&self.pool, member.id).await?;
        let metrics_left = metrics
            .iter()
            .filter(|m| {
                !values
                    .iter()
                    .any(|v| v.metric_id == m.id && v.quarter == quarter)
            })
            .count();
        let milestones_left = milestones(spec)
            .iter()
            .filter(|(h, _)| {
                !checks
                    .iter()
                    .any(|c| c.horizon == *h && c.quarter == quarter)
            })
            .count();
        Ok(metrics_left + milestones_left)
    }

    async fn store_metric(
        &self,
        m: &Metric,
        quarter: Period,
        typed: &str,
        out: &mut Stored,
    ) -> Result<()> {
        match m.value_type.read(typed) {
            Ok(v) => {
                store::set_value(&self.pool, m.id, quarter, v, self.now()).await?;
                let met = m.target.is_some_and(|t| domain::meets(v, t));
                out.done.push(format!(
                    "{} {}{}",
                    m.name,
                    m.value_type.show(v),
                    if met { " ✓" } else { "" }
                ));
            }
            Err(e) => out.problems.push(format!("{}: {e}", m.name)),
        }
        Ok(())
    }

    async fn store_milestone(
        &self,
        member: &Member,
        spec: &SpecText,
        quarter: Period,
        h: Horizon,
        typed: &str,
        out: &mut Stored,
    ) -> Result<()> {
        let Some((_, words)) = milestones(spec).into_iter().find(|(x, _)| *x == h) else {
            out.problems
                .push(format!("your spec has no {} milestone to mark", h.label()));
            return Ok(());
        };
        match MilestoneStatus::parse_user(typed) {
            Ok(status) => {
                store::set_milestone(
                    &self.pool,
                    member.id,
                    h,
                    quarter,
                    status,
                    &clip(words, 500),
                    self.now(),
                )
                .await?;
                out.done
                    .push(format!("{} milestone {}", h.label(), status.label()));
            }
            Err(e) => out.problems.push(format!("{}: {e}", h.label())),
        }
        Ok(())
    }

    /// Scorecard lines of a DM (`metric posts: 3`, `milestone 1y: on track`): stored for the open check-in's
    /// quarter, or the member's current one. Any other text answers the open check-in as usual.
    pub(crate) async fn scorecard_by_reply(
        &self,
        actor: &Actor,
        members: &[Member],
        open: Option<&OpenCheckin>,
        open_count: usize,
        lines: Vec<ScoreLine>,
        rest: &str,
    ) -> Result<Reply> {
        let Some(first) = members.first() else {
            return Err(Error::user("Join a circle first."));
        };
        // The member the open prompt was for; else the one whose metrics the reply names.
        let mut member = first;
        if let Some(p) = open {
            member = members
                .iter()
                .find(|m| m.id == p.member.id)
                .unwrap_or(first);
        } else {
            for m in members {
                let names: Vec<String> = store::metrics_of(&self.pool, m.id, false)
                    .await?
                    .into_iter()
                    .map(|x| x.name.to_lowercase())
                    .collect();
                if lines.iter().any(|l| matches!(l, ScoreLine::Metric { name, .. } if names.contains(&name.to_lowercase())))
                {
                    member = m;
                    break;
                }
            }
        }
        let quarter = match open {
            Some(p) => p.period,
            None => Period::containing_quarter(local_date(self.now(), self.zone_of(member).await?)),
        };
        let metrics = store::metrics_of(&self.pool, member.id, false).await?;
        let spec = specs::current(&self.pool, member.id)
            .await?
            .map(|s| s.text)
            .unwrap_or_default();
        let mut out = Stored::default();
        for line in lines {
            match line {
                ScoreLine::Metric { name, value } => {
                    match metrics
                        .iter()
                        .find(|m| m.name.eq_ignore_ascii_case(name.trim()))
                    {
                        Some(m) => self.store_metric(m, quarter, &value, &mut out).await?,
                        None => out.problems.push(format!(
                            "you have no metric called \"{}\"{}",
                            crate::domain::zone::safe_quote(&name),
                            if metrics.is_empty() {
                                String::new()
                            } else {
                                format!(
                                    " (yours: {})",
                                    metrics
                                        .iter()
                                        .map(|m| m.name.as_str())
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                )
                            }
                        )),
                    }
                }
                ScoreLine::Milestone { horizon, status } => match Horizon::parse_user(&horizon) {
                    Ok(h) => {
                        self.store_milestone(member, &spec, quarter, h, &status, &mut out)
                            .await?
                    }
                    Err(e) => out.problems.push(e),
                },
            }
        }
        let mut text = summary(quarter, &out);
        if !rest.is_empty() {
            match open {
                Some(p) => {
                    let stored = self.dm_checkin(actor, p, rest, None).await?;
                    text.blank();
                    text.append(stored.text);
                    if !stored.buttons.is_empty() {
                        return Ok(
                            Reply::private(self.fit(actor, text, Some("spec scorecard")))
                                .with_buttons(stored.buttons),
                        );
                    }
                }
                None if open_count > 1 => {
                    text.line(spans![
                        "The rest of your message wasn't stored: you have several check-ins open, so reply to the \
                         prompt it answers."
                    ]);
                }
                None => {
                    text.line(spans![
                        "The rest of your message wasn't stored: no check-in is open right now."
                    ]);
                }
            }
        }
        Ok(Reply::private(self.fit(
            actor,
            text,
            Some("spec scorecard"),
        )))
    }

    /// `/spec scorecard [member]`: the table over quarters with targets, milestones with their history, and a PNG of
    /// each metric's trend. Another member's only if they share their spec; their private metrics never.
    pub async fn spec_scorecard(
        &self,
        actor: &Actor,
        other_user_id: Option<&str>,
    ) -> Result<Reply> {
        let me = self.member(actor).await?;
        let owner = match other_user_id.filter(|id| *id != actor.user_id) {
            None => me.clone(),
            Some(id) => circles_store::find_member(&self.pool, me.server_id, id)
                .await?
                .ok_or_else(|| Error::user("That member hasn't used career-circle here."))?,
        };
        let own = owner.id == me.id;
        if !own {
            let shared = specs::current(&self.pool, owner.id)
                .await?
                .is_some_and(|s| s.visibility == Visibility::Circle)
                && self.share_a_circle(&me, &owner).await?;
            if !shared {
                return Err(Error::user(format!(
                    "{} hasn't shared a scorecard.",
                    owner.display_name
                )));
            }
        }
        let card = card::load(&self.pool, owner.id, own).await?;
        if card.metrics.is_empty() && card.milestones.is_empty() {
            return Err(Error::user(if own {
                crate::text![
                    "Your scorecard is empty. ",
                    cmd("metric add name:posts type:count kind:leading target:3"),
                    " starts one; the check-in asks for each metric every quarter."
                ]
            } else {
                Text::plain(format!("{} has no scorecard yet.", owner.display_name))
            }));
        }
        let title = if own {
            "Your scorecard".to_owned()
        } else {
            format!("{}'s scorecard", owner.display_name)
        };
        let text = card::table(&title, &card);
        let quarters = card.quarters();
        let mut files = Vec::new();
        if !card.metrics.is_empty() && !quarters.is_empty() {
            let labels: Vec<String> = quarters.iter().map(Period::label).collect();
            let mut series = card::series(&card, &quarters);
            series.truncate(chart::MAX_METRICS);
            let title = title.clone();
            // Drawing takes a noticeable slice of CPU: keep it off the async workers.
            let png = tokio::task::spawn_blocking(move || chart::render(&title, &labels, &series))
                .await
                .map_err(|e| Error::Unexpected(anyhow::anyhow!("the chart task failed: {e}")))?
                .map_err(|e| Error::Unexpected(anyhow::anyhow!("rendering the scorecard: {e}")))?;
            files.push(Attachment {
                filename: "scorecard.png".to_owned(),
                bytes: png,
            });
        }
        Ok(Reply::private(self.fit(actor, text, None)).with_files(files))
    }
}

fn quarter_of(period: &str) -> Result<Period> {
    match Period::parse_key(period) {
        Ok(p @ Period::Quarter { .. }) => Ok(p),
        _ => Err(Error::user("That button is out of date.")),
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text).trim()
}

fn example(t: ValueType) -> &'static str {
    match t {
        ValueType::Number => "2.5",
        ValueType::Count => "3",
        ValueType::YesNo => "yes",
        ValueType::Scale => "4",
    }
}

fn summary(quarter: Period, out: &Stored) -> Text {
    let mut text = Text::new();
    if out.done.is_empty() {
        text.line(spans![format!("Nothing stored for {}.", quarter.label())]);
    } else {
        text.line(spans![
            bold(format!("Scorecard {}:", quarter.label())),
            format!(" {}.", out.done.join(" · "))
        ]);
    }
    for p in &out.problems {
        text.item(spans![format!("Not stored: {p}")]);
    }
    text
}
