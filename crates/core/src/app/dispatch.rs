//! The one way in for a command: every platform's adapter turns what it received into a `Command` (through the
//! command table) and hands it here, so the use cases, the metrics and the tracing span are the same everywhere.

use std::time::Instant;

use tracing::Instrument as _;

use crate::app::circles::{CircleSettings, CreateCircle};
use crate::app::commitments::Done;
use crate::app::feedback::MarkRequest;
use crate::app::opportunities::{Evaluate, Lived};
use crate::app::scorecard::MetricAdd;
use crate::app::{Actor, App, Error, Reply, Result, parse_until};
use crate::chat::commands::{Command, Invocation};

impl App {
    /// Checks and runs a platform's invocation; a bad one is answered with what to type instead.
    pub async fn invoke(&self, actor: &Actor, invocation: Invocation) -> Reply {
        match Command::parse(invocation) {
            Ok(command) => self.answer(actor, command).await,
            Err(text) => Reply::private(text),
        }
    }

    /// Runs a command and answers it: the reply, or the error as the member should see it. Records the command's
    /// outcome and time for /metrics, inside a span that names the command, platform and a correlation id.
    pub async fn answer(&self, actor: &Actor, command: Command) -> Reply {
        let path = command.path();
        let span = tracing::info_span!(
            "command",
            command = path,
            platform = %actor.platform,
            correlation = %uuid::Uuid::new_v4().simple(),
        );
        async move {
            let started = Instant::now();
            let result = self.dispatch(actor, command).await;
            crate::ops::record_command(
                path,
                started.elapsed().as_secs_f64(),
                crate::ops::CommandOutcome::of(&result),
            );
            let mut reply = match result {
                Ok(reply) => reply,
                Err(e) => {
                    if let Error::User(u) = &e {
                        tracing::debug!(refused = %u, "command refused");
                    }
                    Reply::private(e.to_user_text())
                }
            };
            reply.text = self.fit(actor, reply.text, None);
            reply
        }
        .instrument(span)
        .await
    }

    /// The use case of each command.
    pub async fn dispatch(&self, actor: &Actor, command: Command) -> Result<Reply> {
        let until = |text: Option<String>| {
            text.as_deref()
                .map(|u| parse_until(u, self.now()))
                .transpose()
        };
        match command {
            Command::Help => Ok(crate::app::help()),
            Command::CircleCreate {
                name,
                channel,
                timezone,
            } => {
                let channel = channel
                    .or_else(|| actor.channel_id.clone())
                    .ok_or_else(|| Error::user("Name the circle's home channel with channel:…"))?;
                self.circle_create(
                    actor,
                    CreateCircle {
                        name: &name,
                        channel_id: &channel,
                        zone: timezone.as_deref(),
                    },
                )
                .await
            }
            Command::CircleJoin { name } => self.circle_join(actor, &name).await,
            Command::CircleLeave { circle } => self.circle_leave(actor, circle.as_deref()).await,
            Command::CircleList => self.circle_list(actor).await,
            Command::CircleMembers { circle } => {
                self.circle_members(actor, circle.as_deref()).await
            }
            Command::CircleSettings {
                circle,
                channel,
                timezone,
                schedule,
                when,
                review_days,
                anonymous_feedback,
            } => {
                if let Some(value) = anonymous_feedback.as_deref() {
                    let reply = self
                        .set_anonymous_feedback(actor, circle.as_deref(), value)
                        .await?;
                    // The one setting given: done. With others, they follow and answer for both.
                    if channel.is_none()
                        && timezone.is_none()
                        && schedule.is_none()
                        && when.is_none()
                        && review_days.is_none()
                    {
                        return Ok(reply);
                    }
                }
                let schedule = match (&schedule, &when) {
                    (Some(s), Some(w)) => Some((s.as_str(), w.as_str())),
                    (None, None) => None,
                    _ => {
                        return Err(Error::user(
                            "Give both `schedule` and `when` to change a schedule.",
                        ));
                    }
                };
                self.circle_settings(
                    actor,
                    CircleSettings {
                        circle: circle.as_deref(),
                        channel_id: channel.as_deref(),
                        zone: timezone.as_deref(),
                        schedule,
                        review_window_days: review_days,
                    },
                )
                .await
            }
            Command::CirclePause {
                until: u,
                resume,
                circle,
            } => {
                let u = until(u)?;
                self.circle_pause(actor, circle.as_deref(), u, resume).await
            }
            Command::CircleOrganiser {
                action,
                member,
                circle,
            } => {
                self.circle_organiser(actor, &action, &member, circle.as_deref())
                    .await
            }
            Command::CircleRemove { member, circle } => {
                self.circle_remove(actor, &member, circle.as_deref()).await
            }
            Command::SpecEdit => self.spec_edit(actor).await,
            Command::SpecShow { member } => self.spec_show(actor, member.as_deref()).await,
            Command::SpecHistory => self.spec_history(actor).await,
            Command::SpecDiff { from, to } => self.spec_diff(actor, from, to).await,
            Command::SpecPhase { phase } => self.spec_phase(actor, &phase).await,
            Command::SpecVisibility { visibility } => {
                self.spec_visibility(actor, &visibility).await
            }
            Command::SpecScorecard { member } => {
                self.spec_scorecard(actor, member.as_deref()).await
            }
            Command::SpecEstablished { established } => {
                self.spec_established(actor, &established).await
            }
            Command::MetricAdd {
                name,
                value_type,
                kind,
                target,
                private,
            } => {
                self.metric_add(
                    actor,
                    MetricAdd {
                        name: &name,
                        value_type: &value_type,
                        kind: &kind,
                        target: target.as_deref(),
                        private,
                    },
                )
                .await
            }
            Command::MetricRemove { name } => self.metric_remove(actor, &name).await,
            Command::MetricList => self.metric_list(actor).await,
            Command::CommitAdd {
                title,
                cadence,
                bet,
            } => {
                self.commit_add_bet(actor, &title, cadence.as_deref(), bet.as_deref())
                    .await
            }
            Command::CommitList => self.commit_list(actor).await,
            Command::CommitDone {
                commitment,
                link,
                note,
            } => {
                self.commit_done(
                    actor,
                    Done {
                        commitment: commitment.as_deref(),
                        link: link.as_deref(),
                        note: note.as_deref(),
                    },
                )
                .await
            }
            Command::CommitDrop { commitment } => {
                self.commit_drop(actor, commitment.as_deref()).await
            }
            Command::CommitKill {
                commitment,
                postmortem,
            } => {
                self.commit_kill(actor, commitment.as_deref(), &postmortem)
                    .await
            }
            Command::WinAdd {
                text,
                link,
                bet,
                serves,
            } => {
                self.win_add_serving(
                    actor,
                    &text,
                    link.as_deref(),
                    bet.as_deref(),
                    serves.as_deref(),
                )
                .await
            }
            Command::WinLink { win, serves } => self.win_link(actor, win, &serves).await,
            Command::WinList { quarter } => self.win_list(actor, quarter.as_deref()).await,
            Command::OpportunityEvaluate {
                name,
                scores,
                fails,
                bet,
            } => {
                self.opportunity_evaluate(
                    actor,
                    Evaluate {
                        name: &name,
                        scores,
                        fails: fails.as_deref(),
                        bet: bet.as_deref(),
                    },
                )
                .await
            }
            Command::OpportunityList => self.opportunity_list(actor).await,
            Command::OpportunityShow { offer } => self.opportunity_show(actor, &offer).await,
            Command::OpportunityDecide { offer, decision } => {
                self.opportunity_decide(actor, &offer, &decision).await
            }
            Command::OpportunityLived {
                offer,
                scores,
                note,
            } => {
                self.opportunity_lived(
                    actor,
                    Lived {
                        offer: &offer,
                        scores,
                        note: note.as_deref(),
                    },
                )
                .await
            }
            Command::OpportunityShare {
                offer,
                compensation,
                circle,
            } => {
                self.opportunity_share(actor, &offer, compensation, circle.as_deref())
                    .await
            }
            Command::CheckinAnswer { answers, circle } => {
                self.checkin_command(actor, circle.as_deref(), &answers)
                    .await
            }
            Command::CheckinShow { member, quarter } => {
                self.checkin_show(actor, member.as_deref(), quarter.as_deref())
                    .await
            }
            Command::CheckinHistory => self.checkin_history(actor).await,
            Command::CheckinEvent { kind, note } => {
                self.checkin_event(actor, &kind, note.as_deref()).await
            }
            Command::ReviewStart { circle } => self.review_start(actor, circle.as_deref()).await,
            Command::ReviewStatus { circle } => self.review_status(actor, circle.as_deref()).await,
            Command::ReviewFeedback { quarter, circle } => {
                self.review_feedback(actor, quarter.as_deref(), circle.as_deref())
                    .await
            }
            Command::ReviewMark {
                feedback,
                decision,
                until,
                reason,
                part,
                contradicts,
            } => {
                self.review_mark(
                    actor,
                    MarkRequest {
                        number: feedback,
                        decision: &decision,
                        until: until.as_deref(),
                        reason: reason.as_deref(),
                        part: part.as_deref(),
                        contradicts,
                    },
                )
                .await
            }
            Command::ReviewFeedbackFor {
                member,
                text,
                anonymous,
                circle,
            } => {
                self.feedback_for(actor, &member, &text, anonymous, circle.as_deref())
                    .await
            }
            Command::Story {
                period,
                share,
                circle,
            } => {
                self.story(actor, period.as_deref(), share, circle.as_deref())
                    .await
            }
            Command::MeTimezone { zone } => self.me_timezone(actor, &zone).await,
            Command::MeVacation { until: u } => {
                let u = until(u)?;
                self.me_vacation(actor, u).await
            }
            Command::MeExport => self.me_export(actor).await,
            Command::MeDelete => Ok(self.me_delete()),
        }
    }
}
