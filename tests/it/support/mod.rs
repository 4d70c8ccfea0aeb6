//! Shared test helpers: settings, a clock, actors, and seeding through the real use cases.

#![allow(dead_code)]

pub mod discord;
pub mod slack;

use std::path::PathBuf;
use std::sync::Arc;

use career_circle_core::app::{Actor, App, Platform};
use career_circle_core::clock::ManualClock;
use career_circle_core::settings::{Settings, Sources};
use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// The defaults of config/default.toml, untouched by the developer's environment.
pub fn settings() -> Settings {
    Settings::load_from(&Sources {
        local_file: PathBuf::from("/nonexistent/local.toml"),
        env: Vec::new(),
    })
    .expect("defaults parse")
}

pub fn t(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("test instant")
        .with_timezone(&Utc)
}

pub fn actor(server: &str, user: &str) -> Actor {
    Actor {
        platform: Platform::Discord,
        server: Some(server.to_owned()),
        user_id: user.to_owned(),
        display_name: format!("User {user}"),
        channel_id: Some("home".to_owned()),
        manager: false,
    }
}

/// Tests read the bot's words as a Discord member would see them: `reply.text.contains("**PM Circle**")`.
pub trait Words {
    fn markdown(&self) -> String;

    fn contains(&self, needle: &str) -> bool {
        self.markdown().contains(needle)
    }

    fn starts_with(&self, prefix: &str) -> bool {
        self.markdown().starts_with(prefix)
    }

    fn matches(&self, needle: &str) -> std::vec::IntoIter<()> {
        vec![(); self.markdown().matches(needle).count()].into_iter()
    }
}

impl Words for career_circle_core::chat::Text {
    fn markdown(&self) -> String {
        career_circle_discord::render::markdown(self)
    }
}

pub struct World {
    pub pool: PgPool,
    pub clock: Arc<ManualClock>,
    pub app: App,
    pub settings: Settings,
}

pub fn world(pool: PgPool, start: &str) -> World {
    let mut settings = settings();
    // Scale tests build circles of dozens; the limit itself is tested with the default (`World::with_limits`).
    settings.limits.members_per_circle =
        u32::try_from(career_circle_core::settings::Limits::MEMBERS_PER_CIRCLE_MAX).unwrap_or(500);
    let clock = Arc::new(ManualClock::new(t(start)));
    let app = App::new(pool.clone(), clock.clone(), settings.schedule.clone())
        .with_rules(settings.circles, settings.limits)
        .with_platform(&career_circle_discord::CAPABILITIES);
    World {
        pool,
        clock,
        app,
        settings,
    }
}

impl World {
    /// The same world under other limits (the defaults: `Limits::DEFAULT`).
    pub fn with_limits(mut self, limits: career_circle_core::settings::Limits) -> Self {
        self.settings.limits = limits;
        self.app = self.app.with_rules(self.settings.circles, limits);
        self
    }

    /// The same world with other circle rules (who may create circles).
    pub fn with_circle_rules(mut self, rules: career_circle_core::settings::CircleRules) -> Self {
        self.settings.circles = rules;
        self.app = self.app.with_rules(rules, self.settings.limits);
        self
    }

    /// A circle in `zone` whose members (one per zone given) each keep a monthly commitment.
    pub async fn circle_with_members(
        &self,
        server: &str,
        zone: &str,
        member_zones: &[&str],
    ) -> Vec<Actor> {
        let mut actors = Vec::new();
        for (i, mz) in member_zones.iter().enumerate() {
            let a = actor(server, &format!("{server}-u{i}"));
            if i == 0 {
                self.app
                    .circle_create(
                        &a,
                        career_circle_core::app::circles::CreateCircle {
                            name: "Circle",
                            channel_id: "home",
                            zone: Some(zone),
                        },
                    )
                    .await
                    .expect("create circle");
            } else {
                self.app.circle_join(&a, "Circle").await.expect("join");
            }
            self.app.me_timezone(&a, mz).await.expect("zone");
            self.app
                .commit_add(&a, "publish one post", None)
                .await
                .expect("commit");
            actors.push(a);
        }
        actors
    }
}

use career_circle_console::recording::RecordingChat;
use career_circle_core::schedule::planner::Planner;
use career_circle_core::schedule::worker::Worker;
use career_circle_core::store::deliveries::{DeliveryRow, for_circle};

impl World {
    pub fn planner(&self) -> Planner {
        Planner::new(self.pool.clone(), self.settings.schedule.clone())
    }

    pub fn worker(&self, chat: Arc<RecordingChat>) -> Worker {
        let mut ws = self.settings.worker.clone();
        ws.global_rate = 100_000;
        ws.channel_rate = 100_000;
        Worker::new(self.pool.clone(), chat, self.clock.clone(), ws)
    }

    /// Runs the planner and drains the worker every `step` from the clock's time to `to`.
    pub async fn drive(
        &self,
        to: DateTime<Utc>,
        step: chrono::Duration,
        chat: &Arc<RecordingChat>,
    ) {
        let planner = self.planner();
        let worker = self.worker(chat.clone());
        let mut now = self.clock_now();
        while now <= to {
            self.clock.set(now);
            planner.tick(now).await.expect("tick");
            while worker.run_once().await.expect("worker").claimed > 0 {}
            now += step;
        }
    }

    /// An organiser sets one of the circle's schedules.
    pub async fn set_schedule(&self, organiser: &Actor, kind: &str, cron: &str) {
        let settings = career_circle_core::app::circles::CircleSettings {
            schedule: Some((kind, cron)),
            ..Default::default()
        };
        self.app
            .circle_settings(organiser, settings)
            .await
            .expect("schedule set");
    }

    pub fn clock_now(&self) -> DateTime<Utc> {
        use career_circle_core::clock::Clock;
        self.clock.now()
    }

    pub async fn circle_id(&self) -> i64 {
        sqlx::query_scalar!("SELECT id FROM circles ORDER BY id LIMIT 1")
            .fetch_one(&self.pool)
            .await
            .expect("circle")
    }

    pub async fn deliveries(&self) -> Vec<DeliveryRow> {
        let mut all = Vec::new();
        let ids: Vec<i64> = sqlx::query_scalar!("SELECT id FROM circles ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .expect("circles");
        for id in ids {
            all.extend(for_circle(&self.pool, id).await.expect("deliveries"));
        }
        all
    }

    pub async fn member_id(&self, a: &Actor) -> i64 {
        sqlx::query_scalar!(
            "SELECT id FROM members WHERE platform_user_id = $1",
            a.user_id
        )
        .fetch_one(&self.pool)
        .await
        .expect("member")
    }
}
