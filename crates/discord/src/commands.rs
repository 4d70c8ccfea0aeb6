//! Slash commands: each parses its options, calls one `app` use case with the acting member taken from the
//! interaction, and renders the `Reply`. No rules live here.

use std::future::Future;
use std::time::Instant;

use serenity::all::{ChannelId, CreateAutocompleteResponse, UserId};

use crate::{Context, Data, Error, render};
use career_circle_core::app::circles::{CircleSettings, CreateCircle};
use career_circle_core::app::commitments::Done;
use career_circle_core::app::{Actor, Platform, Reply, parse_until};

pub fn all() -> Vec<poise::Command<Data, Error>> {
    vec![
        help(),
        circle(),
        spec(),
        commit(),
        me(),
        checkin(),
        win(),
        review(),
        opportunity(),
    ]
}

pub fn actor_of(user: &serenity::all::User, guild: Option<serenity::all::GuildId>) -> Actor {
    Actor {
        platform: Platform::Discord,
        server: guild.map(|g| g.to_string()),
        user_id: user.id.to_string(),
        display_name: user.display_name().to_owned(),
    }
}

fn actor(ctx: Context<'_>) -> Actor {
    actor_of(ctx.author(), ctx.guild_id())
}

/// Runs a use case, turns its error into safe text, records the metric and answers the interaction.
async fn answer(
    ctx: Context<'_>,
    fut: impl Future<Output = career_circle_core::app::Result<Reply>>,
) -> Result<(), Error> {
    let started = Instant::now();
    let result = fut.await;
    career_circle_core::ops::record_command(
        &ctx.command().qualified_name,
        started.elapsed().as_secs_f64(),
        career_circle_core::ops::CommandOutcome::of(&result),
    );
    let reply = result.unwrap_or_else(|e| Reply::private(e.to_user_text()));
    if let poise::Context::Application(actx) = ctx {
        actx.interaction
            .create_response(ctx.http(), render::response(&reply))
            .await?;
    }
    Ok(())
}

pub async fn on_error(error: poise::FrameworkError<'_, Data, Error>) {
    match error {
        poise::FrameworkError::ArgumentParse {
            ctx, input, error, ..
        } => {
            let text = format!(
                "I couldn't read {}: {error}. `/help` shows how each command is used.",
                input
                    .map(|i| format!("\"{i}\""))
                    .unwrap_or_else(|| "that".to_owned())
            );
            if let Err(e) = ctx
                .send(poise::CreateReply::default().content(text).ephemeral(true))
                .await
            {
                tracing::warn!(error = %e, "could not answer an argument error");
            }
        }
        poise::FrameworkError::Command { error, ctx, .. } => {
            let id = career_circle_core::telemetry::report(&error);
            let text = format!(
                "Sorry, something went wrong on our side (logged as {id}). Please try again."
            );
            if let Err(e) = ctx
                .send(poise::CreateReply::default().content(text).ephemeral(true))
                .await
            {
                tracing::warn!(error = %e, "could not answer a command error");
            }
        }
        other => {
            if let Err(e) = poise::builtins::on_error(other).await {
                tracing::warn!(error = %e, "error while handling a framework error");
            }
        }
    }
}

async fn zones(ctx: Context<'_>, partial: &str) -> CreateAutocompleteResponse {
    let mut response = CreateAutocompleteResponse::new();
    for zone in ctx.data().app.zone_suggestions(partial) {
        response = response.add_string_choice(zone, zone);
    }
    response
}

/// What career-circle does and how to use it.
#[poise::command(slash_command)]
pub async fn help(ctx: Context<'_>) -> Result<(), Error> {
    answer(ctx, async { Ok(career_circle_core::app::help()) }).await
}

/// Career circles: create, join, leave, list, members, settings, pause.
#[poise::command(
    slash_command,
    guild_only,
    subcommands(
        "circle_create",
        "circle_join",
        "circle_leave",
        "circle_list",
        "circle_members",
        "circle_settings",
        "circle_pause"
    ),
    subcommand_required
)]
pub async fn circle(_: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Start a circle; you become its organiser.
#[poise::command(slash_command, rename = "create")]
async fn circle_create(
    ctx: Context<'_>,
    #[description = "The circle's name"] name: String,
    #[description = "Home channel for review threads (default: this one)"] channel: Option<
        ChannelId,
    >,
    #[description = "The circle's time zone, e.g. Europe/London"]
    #[autocomplete = "zones"]
    timezone: Option<String>,
) -> Result<(), Error> {
    let channel = channel.unwrap_or(ctx.channel_id()).to_string();
    let req = CreateCircle {
        name: &name,
        channel_id: &channel,
        zone: timezone.as_deref(),
    };
    answer(ctx, ctx.data().app.circle_create(&actor(ctx), req)).await
}

/// Join a circle.
#[poise::command(slash_command, rename = "join")]
async fn circle_join(
    ctx: Context<'_>,
    #[description = "The circle's name"] name: String,
) -> Result<(), Error> {
    answer(ctx, ctx.data().app.circle_join(&actor(ctx), &name)).await
}

/// Leave a circle.
#[poise::command(slash_command, rename = "leave")]
async fn circle_leave(
    ctx: Context<'_>,
    #[description = "Which circle"] circle: Option<String>,
) -> Result<(), Error> {
    answer(
        ctx,
        ctx.data().app.circle_leave(&actor(ctx), circle.as_deref()),
    )
    .await
}

/// The circles in this server.
#[poise::command(slash_command, rename = "list")]
async fn circle_list(ctx: Context<'_>) -> Result<(), Error> {
    answer(ctx, ctx.data().app.circle_list(&actor(ctx))).await
}

/// Members, their open commitments and last check-in.
#[poise::command(slash_command, rename = "members")]
async fn circle_members(
    ctx: Context<'_>,
    #[description = "Which circle"] circle: Option<String>,
) -> Result<(), Error> {
    answer(
        ctx,
        ctx.data()
            .app
            .circle_members(&actor(ctx), circle.as_deref()),
    )
    .await
}

/// Organisers: home channel, zone, schedules (cron or plain words), review window.
#[poise::command(slash_command, rename = "settings")]
#[allow(clippy::too_many_arguments)]
async fn circle_settings(
    ctx: Context<'_>,
    #[description = "Which circle"] circle: Option<String>,
    #[description = "Home channel for review threads"] channel: Option<ChannelId>,
    #[description = "The circle's time zone"]
    #[autocomplete = "zones"]
    timezone: Option<String>,
    #[description = "Which schedule: monthly_nudge, nudge_reminder, checkin_prompt, deep_dive"]
    schedule: Option<String>,
    #[description = "When: 5-field cron (\"0 9 1 * *\") or words (\"monthly on day 1 at 09:00\")"]
    when: Option<String>,
    #[description = "Days the review thread stays open"] review_days: Option<i64>,
) -> Result<(), Error> {
    let channel = channel.map(|c| c.to_string());
    let sched = match (&schedule, &when) {
        (Some(s), Some(w)) => Some((s.as_str(), w.as_str())),
        (None, None) => None,
        _ => {
            return answer(ctx, async {
                Err(career_circle_core::app::Error::user(
                    "Give both `schedule` and `when` to change a schedule.",
                ))
            })
            .await;
        }
    };
    let req = CircleSettings {
        circle: circle.as_deref(),
        channel_id: channel.as_deref(),
        zone: timezone.as_deref(),
        schedule: sched,
        review_window_days: review_days,
    };
    answer(ctx, ctx.data().app.circle_settings(&actor(ctx), req)).await
}

/// Organisers: pause prompts for a holiday (until a date), or resume.
#[poise::command(slash_command, rename = "pause")]
async fn circle_pause(
    ctx: Context<'_>,
    #[description = "Pause until this date (YYYY-MM-DD); empty: until resumed"] until: Option<
        String,
    >,
    #[description = "Resume now"] resume: Option<bool>,
    #[description = "Which circle"] circle: Option<String>,
) -> Result<(), Error> {
    let app = &ctx.data().app;
    let actor = actor(ctx);
    answer(ctx, async {
        let until = until
            .as_deref()
            .map(|u| parse_until(u, app.now()))
            .transpose()?;
        app.circle_pause(&actor, circle.as_deref(), until, resume.unwrap_or(false))
            .await
    })
    .await
}

/// Your career spec: edit, show, history, diff, phase, visibility.
#[poise::command(
    slash_command,
    guild_only,
    subcommands(
        "spec_edit",
        "spec_show",
        "spec_history",
        "spec_diff",
        "spec_phase",
        "spec_visibility"
    ),
    subcommand_required
)]
pub async fn spec(_: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Edit your spec in a form (vision, milestones, skills, metrics, trade-offs).
#[poise::command(slash_command, rename = "edit")]
async fn spec_edit(ctx: Context<'_>) -> Result<(), Error> {
    answer(ctx, ctx.data().app.spec_edit(&actor(ctx))).await
}

/// Show your spec, or a circle-mate's if they share it.
#[poise::command(slash_command, rename = "show")]
async fn spec_show(
    ctx: Context<'_>,
    #[description = "A member of your circle"] member: Option<UserId>,
) -> Result<(), Error> {
    let other = member.map(|m| m.to_string());
    answer(ctx, ctx.data().app.spec_show(&actor(ctx), other.as_deref())).await
}

/// Earlier versions of your spec, with dates.
#[poise::command(slash_command, rename = "history")]
async fn spec_history(ctx: Context<'_>) -> Result<(), Error> {
    answer(ctx, ctx.data().app.spec_history(&actor(ctx))).await
}

/// What changed between two versions.
#[poise::command(slash_command, rename = "diff")]
async fn spec_diff(
    ctx: Context<'_>,
    #[description = "From version"] from: Option<i64>,
    #[description = "To version"] to: Option<i64>,
) -> Result<(), Error> {
    answer(ctx, ctx.data().app.spec_diff(&actor(ctx), from, to)).await
}

/// Record your phase: learning or impact.
#[poise::command(slash_command, rename = "phase")]
async fn spec_phase(
    ctx: Context<'_>,
    #[description = "learning or impact"] phase: String,
) -> Result<(), Error> {
    answer(ctx, ctx.data().app.spec_phase(&actor(ctx), &phase)).await
}

/// Who can see your spec: private or circle.
#[poise::command(slash_command, rename = "visibility")]
async fn spec_visibility(
    ctx: Context<'_>,
    #[description = "private or circle"] visibility: String,
) -> Result<(), Error> {
    answer(
        ctx,
        ctx.data().app.spec_visibility(&actor(ctx), &visibility),
    )
    .await
}

/// Commitments: add, list, done, drop.
#[poise::command(
    slash_command,
    guild_only,
    subcommands("commit_add", "commit_list", "commit_done", "commit_drop"),
    subcommand_required
)]
pub async fn commit(_: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Make a commitment, e.g. "publish one post" monthly.
#[poise::command(slash_command, rename = "add")]
async fn commit_add(
    ctx: Context<'_>,
    #[description = "What you commit to"] title: String,
    #[description = "monthly (default), weekly or quarterly"] cadence: Option<String>,
) -> Result<(), Error> {
    answer(
        ctx,
        ctx.data()
            .app
            .commit_add(&actor(ctx), &title, cadence.as_deref()),
    )
    .await
}

/// Your commitments with streaks and record.
#[poise::command(slash_command, rename = "list")]
async fn commit_list(ctx: Context<'_>) -> Result<(), Error> {
    answer(ctx, ctx.data().app.commit_list(&actor(ctx))).await
}

/// Mark this period of a commitment done.
#[poise::command(slash_command, rename = "done")]
async fn commit_done(
    ctx: Context<'_>,
    #[description = "Number or title (optional with one commitment)"] commitment: Option<String>,
    #[description = "Link to what you published"] link: Option<String>,
    #[description = "A note"] note: Option<String>,
) -> Result<(), Error> {
    let req = Done {
        commitment: commitment.as_deref(),
        link: link.as_deref(),
        note: note.as_deref(),
    };
    answer(ctx, ctx.data().app.commit_done(&actor(ctx), req)).await
}

/// Drop a commitment (its record stays).
#[poise::command(slash_command, rename = "drop")]
async fn commit_drop(
    ctx: Context<'_>,
    #[description = "Number or title"] commitment: Option<String>,
) -> Result<(), Error> {
    answer(
        ctx,
        ctx.data()
            .app
            .commit_drop(&actor(ctx), commitment.as_deref()),
    )
    .await
}

/// Your settings: time zone and vacation.
#[poise::command(
    slash_command,
    guild_only,
    subcommands("me_timezone", "me_vacation", "me_export", "me_delete"),
    subcommand_required
)]
pub async fn me(_: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Your time zone, so prompts arrive at 09:00 your time.
#[poise::command(slash_command, rename = "timezone")]
async fn me_timezone(
    ctx: Context<'_>,
    #[description = "IANA zone, e.g. America/New_York"]
    #[autocomplete = "zones"]
    zone: String,
) -> Result<(), Error> {
    answer(ctx, ctx.data().app.me_timezone(&actor(ctx), &zone)).await
}

/// Pause your prompts until a date (YYYY-MM-DD); empty to come back.
#[poise::command(slash_command, rename = "vacation")]
async fn me_vacation(
    ctx: Context<'_>,
    #[description = "Back on (YYYY-MM-DD)"] until: Option<String>,
) -> Result<(), Error> {
    let app = &ctx.data().app;
    let actor = actor(ctx);
    answer(ctx, async {
        let until = until
            .as_deref()
            .map(|u| parse_until(u, app.now()))
            .transpose()?;
        app.me_vacation(&actor, until).await
    })
    .await
}

/// Quarterly check-ins: answer here, show one, or list yours.
#[poise::command(
    slash_command,
    guild_only,
    subcommands("checkin_answer", "checkin_show", "checkin_history"),
    subcommand_required
)]
pub async fn checkin(_: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Answer this quarter's check-in here instead of by DM.
#[poise::command(slash_command, rename = "answer")]
async fn checkin_answer(
    ctx: Context<'_>,
    #[description = "On track? What went well, what didn't, what changes?"] answers: String,
    #[description = "Which circle"] circle: Option<String>,
) -> Result<(), Error> {
    answer(
        ctx,
        ctx.data()
            .app
            .checkin_command(&actor(ctx), circle.as_deref(), &answers),
    )
    .await
}

/// Show a check-in: yours, or a circle-mate's if they share it.
#[poise::command(slash_command, rename = "show")]
async fn checkin_show(
    ctx: Context<'_>,
    #[description = "A member of your circle"] member: Option<UserId>,
    #[description = "Quarter, e.g. Q1 2027"] quarter: Option<String>,
) -> Result<(), Error> {
    let other = member.map(|m| m.to_string());
    answer(
        ctx,
        ctx.data()
            .app
            .checkin_show(&actor(ctx), other.as_deref(), quarter.as_deref()),
    )
    .await
}

/// Your check-ins so far.
#[poise::command(slash_command, rename = "history")]
async fn checkin_history(ctx: Context<'_>) -> Result<(), Error> {
    answer(ctx, ctx.data().app.checkin_history(&actor(ctx))).await
}

/// Wins: log an accomplishment, list a quarter's.
#[poise::command(
    slash_command,
    guild_only,
    subcommands("win_add", "win_list"),
    subcommand_required
)]
pub async fn win(_: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Log a win: what, and why it mattered, in outcome terms.
#[poise::command(slash_command, rename = "add")]
async fn win_add(
    ctx: Context<'_>,
    #[description = "What you did and what it changed"] text: String,
    #[description = "A link"] link: Option<String>,
) -> Result<(), Error> {
    answer(
        ctx,
        ctx.data().app.win_add(&actor(ctx), &text, link.as_deref()),
    )
    .await
}

/// Your wins in a quarter (default: this one).
#[poise::command(slash_command, rename = "list")]
async fn win_list(
    ctx: Context<'_>,
    #[description = "Quarter, e.g. Q1 2027"] quarter: Option<String>,
) -> Result<(), Error> {
    answer(
        ctx,
        ctx.data().app.win_list(&actor(ctx), quarter.as_deref()),
    )
    .await
}

/// Review threads: start one now (organisers), see who is still owed, read your feedback.
#[poise::command(
    slash_command,
    guild_only,
    subcommands("review_start", "review_status", "review_feedback"),
    subcommand_required
)]
pub async fn review(_: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Organisers: open this quarter's review thread now.
#[poise::command(slash_command, rename = "start")]
async fn review_start(
    ctx: Context<'_>,
    #[description = "Which circle"] circle: Option<String>,
) -> Result<(), Error> {
    answer(
        ctx,
        ctx.data().app.review_start(&actor(ctx), circle.as_deref()),
    )
    .await
}

/// Who still owes feedback in the open review.
#[poise::command(slash_command, rename = "status")]
async fn review_status(
    ctx: Context<'_>,
    #[description = "Which circle"] circle: Option<String>,
) -> Result<(), Error> {
    answer(
        ctx,
        ctx.data().app.review_status(&actor(ctx), circle.as_deref()),
    )
    .await
}

/// The feedback you received in a review.
#[poise::command(slash_command, rename = "feedback")]
async fn review_feedback(
    ctx: Context<'_>,
    #[description = "Quarter, e.g. Q1 2027"] quarter: Option<String>,
) -> Result<(), Error> {
    answer(
        ctx,
        ctx.data()
            .app
            .review_feedback(&actor(ctx), quarter.as_deref()),
    )
    .await
}

/// Everything stored about you, as JSON and Markdown files.
#[poise::command(slash_command, rename = "export")]
async fn me_export(ctx: Context<'_>) -> Result<(), Error> {
    if let poise::Context::Application(actx) = ctx {
        // Building the files can take a moment: defer (ephemerally) inside Discord's 3 s window.
        actx.defer_ephemeral().await?;
    }
    let started = Instant::now();
    let result = ctx.data().app.me_export(&actor(ctx)).await;
    career_circle_core::ops::record_command(
        &ctx.command().qualified_name,
        started.elapsed().as_secs_f64(),
        career_circle_core::ops::CommandOutcome::of(&result),
    );
    let reply = result.unwrap_or_else(|e| Reply::private(e.to_user_text()));
    let mut out = poise::CreateReply::default()
        .content(render::truncate_content(&reply.text))
        .ephemeral(true);
    for f in &reply.files {
        out = out.attachment(serenity::all::CreateAttachment::bytes(
            f.bytes.clone(),
            f.filename.clone(),
        ));
    }
    ctx.send(out).await?;
    Ok(())
}

/// Delete all your data (asks first).
#[poise::command(slash_command, rename = "delete")]
async fn me_delete(ctx: Context<'_>) -> Result<(), Error> {
    answer(ctx, async { Ok(ctx.data().app.me_delete()) }).await
}

/// Opportunities: score an offer against your spec, list past ones.
#[poise::command(
    slash_command,
    guild_only,
    subcommands("opportunity_evaluate", "opportunity_list"),
    subcommand_required
)]
pub async fn opportunity(_: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Score an opportunity 1-5 on each criterion; must-haves come from your spec's non-negotiables.
#[poise::command(slash_command, rename = "evaluate")]
#[allow(clippy::too_many_arguments)]
async fn opportunity_evaluate(
    ctx: Context<'_>,
    #[description = "The opportunity, e.g. Acme staff PM"] name: String,
    #[description = "Learning, 1-5"]
    #[min = 1]
    #[max = 5]
    learning: i64,
    #[description = "Impact, 1-5"]
    #[min = 1]
    #[max = 5]
    impact: i64,
    #[description = "Compensation, 1-5"]
    #[min = 1]
    #[max = 5]
    compensation: i64,
    #[description = "Team and manager, 1-5"]
    #[min = 1]
    #[max = 5]
    team: i64,
    #[description = "Alignment with your 5-year vision, 1-5"]
    #[min = 1]
    #[max = 5]
    alignment: i64,
    #[description = "Numbers of the must-haves it fails (see /spec show), e.g. \"2\"; empty: none"]
    fails: Option<String>,
) -> Result<(), Error> {
    let req = career_circle_core::app::opportunities::Evaluate {
        name: &name,
        scores: [learning, impact, compensation, team, alignment],
        fails: fails.as_deref(),
    };
    answer(ctx, ctx.data().app.opportunity_evaluate(&actor(ctx), req)).await
}

/// Your evaluated opportunities.
#[poise::command(slash_command, rename = "list")]
async fn opportunity_list(ctx: Context<'_>) -> Result<(), Error> {
    answer(ctx, ctx.data().app.opportunity_list(&actor(ctx))).await
}
