//! `career-circle doctor`: one table of what is fine and how to fix what is not. Never prints the token.

use std::collections::HashSet;
use std::time::Duration;

use secrecy::ExposeSecret;

use career_circle_core::settings::{Settings, TokenSource, token_shape_ok};
use career_circle_core::store;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
}

pub async fn main() -> u8 {
    let checks = run_checks().await;
    print!("{}", render(&checks));
    if checks.iter().all(|c| c.ok) {
        println!("\nAll good: `career-circle run` is ready to go.");
        0
    } else {
        println!("\nFix the FAIL lines above, then run `career-circle doctor` again.");
        1
    }
}

pub async fn run_checks() -> Vec<Check> {
    let mut checks = Vec::new();
    let settings = match Settings::load() {
        Ok(s) => {
            checks.push(Check {
                name: "settings",
                ok: true,
                detail: "config/default.toml, local.toml and env parse".into(),
            });
            s
        }
        Err(e) => {
            checks.push(Check {
                name: "settings",
                ok: false,
                detail: format!(
                    "{e}. Fix it in config/local.toml or the CAREER_CIRCLE__* variable"
                ),
            });
            return checks;
        }
    };

    let timeout = settings
        .database
        .connect_timeout
        .min(Duration::from_secs(5));
    match store::connect(settings.database_url(), 1, timeout).await {
        Ok(pool) => {
            checks.push(Check {
                name: "database",
                ok: true,
                detail: format!("reachable at {}", redact(settings.database_url())),
            });
            checks.push(migration_check(&pool).await);
        }
        Err(e) => {
            checks.push(Check {
                name: "database",
                ok: false,
                detail: format!(
                    "cannot connect to {} ({}). Start PostgreSQL (e.g. `docker compose up -d db`) or set DATABASE_URL",
                    redact(settings.database_url()),
                    first_line(&e.to_string())
                ),
            });
            checks.push(Check {
                name: "migrations",
                ok: false,
                detail: "unknown until the database is reachable".into(),
            });
        }
    }

    let slack_configured = settings.slack.tokens().is_some();
    checks.push(match &settings.discord.token {
        None if slack_configured => Check {
            name: "discord token",
            ok: true,
            detail: "not set: this deployment serves Slack only".into(),
        },
        None => Check {
            name: "discord token",
            ok: false,
            detail: "missing. Set DISCORD_TOKEN, discord.token_file, or discord.token (see README: Discord setup)".into(),
        },
        Some((token, source)) => {
            let from = match source {
                TokenSource::Env => "DISCORD_TOKEN",
                TokenSource::Setting => "discord.token",
                TokenSource::File => "discord.token_file",
            };
            if token_shape_ok(token) {
                Check { name: "discord token", ok: true, detail: format!("present (from {from}), shape looks right") }
            } else {
                Check {
                    name: "discord token",
                    ok: false,
                    detail: format!("present (from {from}) but not shaped like a bot token; copy it again from the Bot page"),
                }
            }
        }
    });
    checks.extend(slack_checks(&settings).await);
    checks
}

/// Slack's two tokens, tried: `auth.test` with the bot token, `apps.connections.open` with the app-level token.
async fn slack_checks(settings: &Settings) -> Vec<Check> {
    let Some((bot, app)) = settings.slack.tokens() else {
        return vec![Check {
            name: "slack",
            ok: true,
            detail: "not configured (set SLACK_BOT_TOKEN and SLACK_APP_TOKEN to serve Slack; README: Slack setup)"
                .into(),
        }];
    };
    let connection = career_circle_slack::Connection {
        bot_token: bot.expose_secret().to_owned(),
        app_token: app.expose_secret().to_owned(),
        api_base: settings.slack.api_url.clone(),
        request_timeout: settings.worker.request_timeout.min(Duration::from_secs(10)),
    };
    career_circle_slack::check(&connection)
        .await
        .into_iter()
        .map(|(name, result)| match result {
            Ok(detail) => Check {
                name,
                ok: true,
                detail,
            },
            Err(e) => Check {
                name,
                ok: false,
                detail: format!("{e}. See README: Slack setup"),
            },
        })
        .collect()
}

async fn migration_check(pool: &sqlx::PgPool) -> Check {
    let applied: Result<Vec<i64>, sqlx::Error> = store::applied_migrations(pool).await;
    match applied {
        Ok(applied) => {
            let applied: HashSet<i64> = applied.into_iter().collect();
            let missing = store::MIGRATOR
                .iter()
                .filter(|m| !applied.contains(&m.version))
                .count();
            if missing == 0 {
                Check {
                    name: "migrations",
                    ok: true,
                    detail: format!("all {} applied", applied.len()),
                }
            } else {
                Check {
                    name: "migrations",
                    ok: false,
                    detail: format!("{missing} pending. Run `career-circle migrate`"),
                }
            }
        }
        Err(_) => Check {
            name: "migrations",
            ok: false,
            detail: "none applied yet. Run `career-circle migrate`".into(),
        },
    }
}

pub fn render(checks: &[Check]) -> String {
    let width = checks
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(8)
        .max(5);
    let mut out = format!("{:<width$}  {:<6}  {}\n", "CHECK", "STATUS", "DETAIL");
    for c in checks {
        out.push_str(&format!(
            "{:<width$}  {:<6}  {}\n",
            c.name,
            if c.ok { "OK" } else { "FAIL" },
            c.detail
        ));
    }
    out
}

/// The URL without its password, for display.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            let hidden = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                user.to_owned()
            };
            format!("{}{}{}", &url[..scheme + 3], hidden, &url[at..])
        }
        _ => url.to_owned(),
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
