//! `career-circle demo`: the real app, planner and worker on a virtual clock, with the terminal as the chat.
//! You are a member of a demo circle with two simulated peers; type the slash commands you would type on
//! Discord, move the clock with `/clock`, and watch nudges, prompts and replies arrive.

use std::io::IsTerminal as _;
use std::sync::Arc;

use anyhow::Context as _;
use chrono::{DateTime, Datelike as _, Months, Utc};
use tokio::io::{AsyncBufReadExt as _, BufReader};

use crate::console::{ConsoleChat, YOU};
use career_circle_core::app::circles::CreateCircle;
use career_circle_core::app::{Actor, App, Platform, Reply};
use career_circle_core::chat::commands::{Command, Kind, grammar};
use career_circle_core::chat::{ChatMessage, ChatPort};
use career_circle_core::clock::parse_instant;
use career_circle_core::clock::{Clock, ManualClock};
use career_circle_core::domain::action::Action;
use career_circle_core::domain::zone::Zone;
use career_circle_core::schedule::planner::Planner;
use career_circle_core::schedule::worker::Worker;
use career_circle_core::settings::load_or_exit_code as load_settings;
use career_circle_core::store::scratch::{Commits, ScratchDb};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Read commands from this file instead of the terminal, print what happens, and exit at its end.
    #[arg(long)]
    pub script: Option<std::path::PathBuf>,
    /// Where the virtual clock starts (UTC; default: now).
    #[arg(long, value_parser = parse_instant)]
    pub start: Option<DateTime<Utc>>,
    /// Your time zone.
    #[arg(long, default_value = "Europe/London")]
    pub zone: String,
}

const PEERS: [(&str, &str, &str); 2] = [
    ("ada", "Ada", "Europe/Berlin"),
    ("grace", "Grace", "America/New_York"),
];

struct Demo {
    app: App,
    clock: Arc<ManualClock>,
    chat: Arc<ConsoleChat>,
    planner: Planner,
    worker: Worker,
    you: Actor,
}

/// The demo circle's home channel.
const HOME: &str = "career-circle";

fn actor(user: &str, name: &str) -> Actor {
    Actor {
        platform: Platform::Console,
        server: Some("demo".to_owned()),
        user_id: user.to_owned(),
        display_name: name.to_owned(),
        channel_id: Some(HOME.to_owned()),
        // The demo's server is the person at the terminal's own.
        manager: user == YOU,
    }
}

/// In the terminal a member is named as they are shown: "@ada", "Ada" and "ada" are all Ada.
fn console_value(kind: Kind, value: &str) -> String {
    match kind {
        Kind::User => value.trim().trim_start_matches('@').to_lowercase(),
        Kind::Channel => value.trim().trim_start_matches('#').to_owned(),
        _ => value.to_owned(),
    }
}

pub async fn main(args: Args) -> u8 {
    let settings = match load_settings() {
        Ok(s) => s,
        Err(code) => return code,
    };
    // The terminal is the chat here: only warnings and errors should interrupt it.
    let mut log = settings.log.clone();
    log.level = "warn,sqlx::query=error".to_owned();
    career_circle_core::telemetry::init(&log);
    let zone = match Zone::parse(&args.zone) {
        Ok(z) => z,
        Err(e) => {
            eprintln!("error: --zone: {e}");
            return 2;
        }
    };
    let scratch = match ScratchDb::create(settings.database_url(), "cc_demo", Commits::Relaxed)
        .await
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "error: the demo needs PostgreSQL ({e:#}). Start one, set DATABASE_URL, or use scripts/run, which \
                 finds or starts one for you."
            );
            return 1;
        }
    };
    let result = run(&scratch, &settings, &args, zone).await;
    match scratch.finish(result).await {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}

async fn run(
    scratch: &ScratchDb,
    settings: &career_circle_core::settings::Settings,
    args: &Args,
    zone: Zone,
) -> anyhow::Result<()> {
    let start = args.start.unwrap_or_else(Utc::now);
    let clock = Arc::new(ManualClock::new(start));
    let chat = Arc::new(ConsoleChat::new(
        clock.clone(),
        zone,
        Box::new(std::io::stdout()),
    ));
    let app = App::new(
        scratch.pool.clone(),
        clock.clone(),
        settings.schedule.clone(),
    )
    .with_chat(chat.clone() as Arc<dyn ChatPort>)
    .with_rules(settings.circles, settings.limits);
    let planner = Planner::new(scratch.pool.clone(), settings.schedule.clone());
    let mut worker_settings = settings.worker.clone();
    worker_settings.global_rate = 100_000;
    worker_settings.channel_rate = 100_000;
    let worker = Worker::new(
        scratch.pool.clone(),
        chat.clone() as Arc<dyn ChatPort>,
        clock.clone(),
        worker_settings,
    );
    let demo = Demo {
        app,
        clock,
        chat,
        planner,
        worker,
        you: actor(YOU, "You"),
    };
    demo.setup(zone).await?;

    let interactive = args.script.is_none() && std::io::stdin().is_terminal();
    let mut lines: Box<dyn Iterator<Item = String>> = match &args.script {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            Box::new(
                text.lines()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
                    .into_iter(),
            )
        }
        None if !interactive => {
            let mut all = Vec::new();
            let mut reader = BufReader::new(tokio::io::stdin()).lines();
            while let Some(line) = reader.next_line().await? {
                all.push(line);
            }
            Box::new(all.into_iter())
        }
        None => Box::new(std::iter::empty()),
    };
    if interactive {
        let mut reader = BufReader::new(tokio::io::stdin()).lines();
        loop {
            print!("{} > ", demo.chat.stamp());
            std::io::Write::flush(&mut std::io::stdout()).ok();
            let Some(line) = reader.next_line().await? else {
                break;
            };
            if !demo.line(&line, &mut std::iter::empty()).await? {
                break;
            }
        }
        // Interactive /spec edit reads its fields from the same terminal.
    } else {
        while let Some(line) = lines.next() {
            if !line.trim().is_empty() && !line.trim_start().starts_with('#') {
                demo.chat.print(&format!("> {}", line.trim()));
            }
            if !demo.line(&line, &mut lines).await? {
                break;
            }
        }
    }
    Ok(())
}

impl Demo {
    async fn setup(&self, zone: Zone) -> anyhow::Result<()> {
        let you = &self.you;
        self.app
            .circle_create(
                you,
                CreateCircle {
                    name: "Demo circle",
                    channel_id: HOME,
                    zone: Some(zone.name()),
                },
            )
            .await?;
        self.app.me_timezone(you, zone.name()).await?;
        for (id, name, peer_zone) in PEERS {
            let peer = actor(id, name);
            self.app.circle_join(&peer, "Demo circle").await?;
            self.app.me_timezone(&peer, peer_zone).await?;
            self.app.commit_add(&peer, "publish one post", None).await?;
            let fields = vec![(
                "vision".to_owned(),
                format!("{name}: leading product for a mission I care about"),
            )];
            self.app.spec_save(&peer, &fields).await?;
            self.app.spec_visibility(&peer, "circle").await?;
        }
        self.chat.print(&format!(
            "Welcome to the career-circle demo. You are in \"Demo circle\" with Ada (Berlin) and Grace (New York).\n\
             The clock reads {}. Try /help, /spec edit, /commit add publish one post, then /clock +1month.\n\
             /clock +1d | +2h | +1w | +1month | 2027-01-04T09:00 moves time; /press N presses a button; /quit ends.",
            self.chat.stamp()
        ));
        Ok(())
    }

    fn show(&self, reply: &Reply) {
        if !reply.text.is_empty() {
            self.chat.show(
                if reply.audience == career_circle_core::app::reply::Audience::Private {
                    "career-circle (only you can see this)"
                } else {
                    "career-circle"
                },
                &ChatMessage {
                    text: reply.text.clone(),
                    buttons: reply.buttons.clone(),
                    attachments: reply.files.clone(),
                    reply_to: None,
                },
            );
        }
    }

    fn answer(&self, result: career_circle_core::app::Result<Reply>) -> Option<Reply> {
        match result {
            Ok(r) => Some(r),
            Err(e) => {
                self.show(&Reply::private(e.to_user_text()));
                None
            }
        }
    }

    /// Handles one input line; false ends the demo.
    async fn line(
        &self,
        line: &str,
        more: &mut dyn Iterator<Item = String>,
    ) -> anyhow::Result<bool> {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return Ok(true);
        }
        if !line.starts_with('/') {
            let r = self.app.dm_message(&self.you, line, None).await;
            if let Some(r) = self.answer(r) {
                self.show(&r);
            }
            return Ok(true);
        }
        let body = &line[1..];
        let first = body.split_whitespace().next().unwrap_or_default();
        let app = &self.app;
        let you = &self.you;
        match first {
            "quit" | "exit" => return Ok(false),
            "clock" => {
                let rest = body[first.len()..].trim();
                if rest.is_empty() {
                    self.chat.print(&format!("It is {}.", self.chat.stamp()));
                } else {
                    self.move_clock(rest).await?;
                }
                return Ok(true);
            }
            "press" => {
                let Some(button) = body[first.len()..]
                    .trim()
                    .parse()
                    .ok()
                    .and_then(|n| self.chat.button(n))
                else {
                    self.show(&Reply::private(
                        "No such button; /press takes the number shown in [brackets].",
                    ));
                    return Ok(true);
                };
                let result = app.button(you, &button.custom_id).await;
                match self.answer(result) {
                    Some(r) if r.modal.is_some() => self.fill_form(r, more).await?,
                    Some(r) => self.show(&r),
                    None => {}
                }
                return Ok(true);
            }
            _ => {}
        }
        // Everything else is a command of the table, read with the same grammar as Slack's text commands.
        let command = match grammar::parse(body, &console_value).and_then(Command::parse) {
            Ok(c) => c,
            Err(text) => {
                self.show(&Reply::private(text));
                return Ok(true);
            }
        };
        if let Command::MeTimezone { zone } = &command
            && let Ok(z) = Zone::parse(zone)
        {
            self.chat.set_zone(z);
        }
        let reply = app.answer(you, command).await;
        if reply.modal.is_some() {
            self.fill_form(reply, more).await?;
        } else {
            self.show(&reply);
        }
        Ok(true)
    }

    /// A form, the console way: each field asked in turn; an empty line keeps what was there.
    async fn fill_form(
        &self,
        reply: Reply,
        more: &mut dyn Iterator<Item = String>,
    ) -> anyhow::Result<()> {
        let Some(modal) = reply.modal else {
            return Ok(());
        };
        self.chat.print(&format!(
            "── {} ── (one line per field; empty keeps the current text)",
            modal.title
        ));
        let interactive = std::io::stdin().is_terminal();
        let mut stdin = BufReader::new(tokio::io::stdin()).lines();
        let mut fields = Vec::new();
        for input in &modal.inputs {
            let current = input.value.clone().unwrap_or_default();
            self.chat.print(&format!(
                "{}{}:",
                input.label,
                if current.is_empty() {
                    String::new()
                } else {
                    format!(" [{current}]")
                }
            ));
            let line = match more.next() {
                Some(l) => Some(l),
                None if interactive => stdin.next_line().await?,
                None => None,
            };
            let line = line.unwrap_or_default();
            if !interactive {
                self.chat.print(&format!("> {line}"));
            }
            let value = if line.trim().is_empty() {
                current
            } else {
                line.replace("\\n", "\n")
            };
            fields.push((input.custom_id.clone(), value));
        }
        let result = self
            .app
            .form_submit(&self.you, &modal.custom_id, &fields)
            .await;
        if let Some(r) = self.answer(result) {
            self.show(&r);
        }
        Ok(())
    }

    async fn move_clock(&self, spec: &str) -> anyhow::Result<()> {
        let now = self.clock.now();
        let target = match target_time(spec, now) {
            Some(t) if t > now => t,
            Some(_) => {
                self.chat.print("The clock only moves forward.");
                return Ok(());
            }
            None => {
                self.chat
                    .print("Try /clock +1d, +2h, +1w, +1month or 2027-01-04T09:00.");
                return Ok(());
            }
        };
        // Jump from one due moment to the next, sending as we go, so messages arrive at their own times.
        let mut steps = 0;
        while let Some(next) = self.planner.next_due(self.clock.now()).await? {
            if next > target || steps > 10_000 {
                break;
            }
            self.clock.set(next);
            self.step().await?;
            steps += 1;
        }
        self.clock.set(target);
        self.step().await?;
        self.chat
            .print(&format!("(the clock now reads {})", self.chat.stamp()));
        Ok(())
    }

    async fn step(&self) -> anyhow::Result<()> {
        self.planner.tick(self.clock.now()).await?;
        while self.worker.run_once().await?.claimed > 0 {}
        self.peers_act().await
    }

    /// The simulated peers keep their commitments and answer their check-ins.
    async fn peers_act(&self) -> anyhow::Result<()> {
        for (user, message, message_id) in self.chat.take_peer_inbox() {
            let Some((_, name, _)) = PEERS.iter().find(|(id, _, _)| *id == user) else {
                continue;
            };
            let peer = actor(&user, name);
            for b in &message.buttons {
                match Action::parse(&b.custom_id) {
                    Some(Action::Done { .. }) => {
                        let done = self.app.button(&peer, &b.custom_id).await.is_ok();
                        if done {
                            self.chat
                                .print(&format!("({name} published a post and pressed Done)"));
                        }
                    }
                    Some(Action::Checkin { .. }) => {
                        let text = format!(
                            "On track, mostly. Went well: shipped the pricing experiment. Didn't: writing slipped. \
                             Next: block Friday mornings. ({name})"
                        );
                        let answered = self
                            .app
                            .dm_message(&peer, &text, Some(&message_id))
                            .await
                            .is_ok();
                        if answered {
                            self.chat.print(&format!("({name} answered the check-in)"));
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }
}

fn target_time(spec: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let spec = spec.trim();
    if let Some(rel) = spec.strip_prefix('+') {
        let split = rel.find(|c: char| !c.is_ascii_digit())?;
        let (n, unit) = rel.split_at(split);
        let n: u32 = n.parse().ok()?;
        return match unit.trim() {
            "m" | "min" => Some(now + chrono::Duration::minutes(i64::from(n))),
            "h" => Some(now + chrono::Duration::hours(i64::from(n))),
            "d" => Some(now + chrono::Duration::days(i64::from(n))),
            "w" => Some(now + chrono::Duration::weeks(i64::from(n))),
            "month" | "months" | "mo" => now.checked_add_months(Months::new(n)),
            "y" | "year" | "years" => now.with_year(now.year() + i32::try_from(n).ok()?),
            _ => None,
        };
    }
    parse_instant(spec).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_named_as_shown() {
        assert_eq!(console_value(Kind::User, " @Ada"), "ada");
        assert_eq!(console_value(Kind::Text, "Ada"), "Ada");
    }

    #[test]
    fn clock_targets() {
        let now = parse_instant("2027-01-31T09:00").unwrap();
        assert_eq!(
            target_time("+1month", now),
            Some(parse_instant("2027-02-28T09:00").unwrap())
        );
        assert_eq!(
            target_time("+2d", now),
            Some(parse_instant("2027-02-02T09:00").unwrap())
        );
        assert_eq!(
            target_time("2027-03-01", now),
            Some(parse_instant("2027-03-01").unwrap())
        );
        assert_eq!(target_time("+1fortnight", now), None);
    }
}
