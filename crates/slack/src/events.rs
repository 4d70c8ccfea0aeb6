//! What arrives over Socket Mode, turned into one `app` call each: slash commands (their text read by the command
//! table's grammar), button presses (`block_actions`), form submits (`view_submission`), DMs to the bot
//! (`message.im`), replies in review threads (`message.channels`/`message.groups` with `thread_ts`), and the
//! install going away (`tokens_revoked`, `app_uninstalled`). The answer goes back the way Slack expects it: the
//! `response_url`, a modal (`views.open`), the DM, or the ack's `response_action`.

use std::sync::Arc;

use serde_json::{Value, json};

use career_circle_core::app::reply::Audience;
use career_circle_core::app::{Actor, App, Error, Platform, Reply};
use career_circle_core::chat::commands::table::UMBRELLA;
use career_circle_core::chat::commands::{Kind, grammar};
use career_circle_core::chat::{ChatError, ChatMessage, ChatPort, Destination, ThreadRef};

use crate::chat_port::SlackChat;
use crate::render::{self, CAPABILITIES};
use crate::web::Body;

/// What every handler needs.
#[derive(Clone)]
pub struct Handler {
    pub app: App,
    pub chat: Arc<SlackChat>,
}

/// How a `view_submission` is acknowledged: nothing (the modal closes), or errors shown on its fields.
pub type AckPayload = Option<Value>;

impl Handler {
    pub fn new(app: App, chat: Arc<SlackChat>) -> Self {
        Self {
            app: app.with_platform(&CAPABILITIES),
            chat,
        }
    }

    /// One envelope's payload, by its type. `view_submission` answers with the ack's payload (errors on the form);
    /// everything else has been acknowledged already.
    pub async fn handle(&self, kind: &str, payload: &Value) -> anyhow::Result<AckPayload> {
        match kind {
            "slash_commands" => self.slash_command(payload).await?,
            "interactive" => match payload["type"].as_str().unwrap_or_default() {
                "block_actions" => self.block_actions(payload).await?,
                "view_submission" => return self.view_submission(payload).await,
                _ => {}
            },
            "events_api" => self.event(payload).await?,
            _ => {}
        }
        Ok(None)
    }

    /// A workspace id, also for org-wide installs (where `team_id` is null and the user's own team counts).
    fn team(payload: &Value) -> Option<String> {
        [
            &payload["team_id"],
            &payload["team"]["id"],
            &payload["user"]["team_id"],
            &payload["event"]["team"],
            &payload["view"]["team_id"],
        ]
        .into_iter()
        .find_map(|v| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned))
    }

    pub async fn slash_command(&self, p: &Value) -> anyhow::Result<()> {
        let command = p["command"]
            .as_str()
            .unwrap_or_default()
            .trim_start_matches('/');
        let text = render::typed(p["text"].as_str().unwrap_or_default());
        let line = if command == UMBRELLA {
            text
        } else {
            format!("{command} {text}")
        };
        let actor = Actor {
            platform: Platform::Slack,
            server: Self::team(p),
            user_id: p["user_id"].as_str().unwrap_or_default().to_owned(),
            display_name: p["user_name"].as_str().unwrap_or_default().to_owned(),
            channel_id: p["channel_id"].as_str().map(str::to_owned),
            manager: false,
        };
        let reply = match grammar::parse(&line, &normalise) {
            Ok(invocation) => self.app.invoke(&actor, invocation).await,
            Err(text) => Reply::private(text),
        };
        self.answer(
            &actor,
            reply,
            p["trigger_id"].as_str(),
            p["response_url"].as_str(),
            &json!({"channel": actor.channel_id}),
        )
        .await
    }

    pub async fn block_actions(&self, p: &Value) -> anyhow::Result<()> {
        let Some(action) = p["actions"].get(0) else {
            return Ok(());
        };
        let custom_id = action["action_id"].as_str().unwrap_or_default();
        let actor = Actor {
            platform: Platform::Slack,
            server: Self::team(p),
            user_id: p["user"]["id"].as_str().unwrap_or_default().to_owned(),
            display_name: p["user"]["username"]
                .as_str()
                .or(p["user"]["name"].as_str())
                .unwrap_or_default()
                .to_owned(),
            channel_id: p["channel"]["id"].as_str().map(str::to_owned),
            manager: false,
        };
        let reply = self
            .app
            .button(&actor, custom_id)
            .await
            .unwrap_or_else(|e| Reply::private(e.to_user_text()));
        self.answer(
            &actor,
            reply,
            p["trigger_id"].as_str(),
            p["response_url"].as_str(),
            &json!({"channel": actor.channel_id}),
        )
        .await
    }

    /// A form's values, checked by the use case; a refusal is shown on the form (`response_action: errors`), a
    /// success goes to the member's DM.
    pub async fn view_submission(&self, p: &Value) -> anyhow::Result<AckPayload> {
        let view = &p["view"];
        let custom_id = view["callback_id"].as_str().unwrap_or_default();
        let mut fields: Vec<(String, String)> = Vec::new();
        if let Some(blocks) = view["state"]["values"].as_object() {
            for (block_id, actions) in blocks {
                let value = actions
                    .as_object()
                    .and_then(|a| a.values().next())
                    .and_then(|a| a["value"].as_str())
                    .unwrap_or_default();
                fields.push((block_id.clone(), value.to_owned()));
            }
        }
        // Slack's inputs hold 3,000 characters; a longer value (never from Slack's own form) is refused on its
        // field rather than cut.
        if let Some((id, value)) = fields
            .iter()
            .find(|(_, v)| v.chars().count() > CAPABILITIES.form_input_max)
        {
            return Ok(Some(field_errors(
                id,
                &format!(
                    "This is {} characters; the limit is {}.",
                    value.chars().count(),
                    CAPABILITIES.form_input_max
                ),
            )));
        }
        let metadata: Value =
            serde_json::from_str(view["private_metadata"].as_str().unwrap_or_default())
                .unwrap_or(Value::Null);
        let actor = Actor {
            platform: Platform::Slack,
            server: Self::team(p),
            user_id: p["user"]["id"].as_str().unwrap_or_default().to_owned(),
            display_name: p["user"]["username"]
                .as_str()
                .or(p["user"]["name"].as_str())
                .unwrap_or_default()
                .to_owned(),
            channel_id: metadata["channel"].as_str().map(str::to_owned),
            manager: false,
        };
        let reply = match self.app.form_submit(&actor, custom_id, &fields).await {
            Ok(reply) => reply,
            Err(Error::User(refused)) => {
                let first = fields
                    .first()
                    .map(|(id, _)| id.as_str())
                    .unwrap_or_default();
                return Ok(Some(field_errors(first, &refused.0.to_plain())));
            }
            Err(e) => Reply::private(e.to_user_text()),
        };
        self.to_dm(&actor, reply).await?;
        Ok(None)
    }

    async fn event(&self, p: &Value) -> anyhow::Result<()> {
        let event = &p["event"];
        match event["type"].as_str().unwrap_or_default() {
            "message" => self.message(p, event).await,
            // The install is gone: its circles pause until the app is back (a new install reconnects it).
            "tokens_revoked" | "app_uninstalled" => {
                if let Some(team) = Self::team(p) {
                    self.app.bot_removed_from(Platform::Slack, &team).await?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// A member's message: in the DM with the bot, words for the app; in a channel thread, feedback.
    async fn message(&self, p: &Value, event: &Value) -> anyhow::Result<()> {
        // Bots (this one included: modern bot messages have `bot_id` and no subtype), edits, deletions, joins.
        if !event["bot_id"].is_null() || !event["subtype"].is_null() {
            return Ok(());
        }
        let user = event["user"].as_str().unwrap_or_default();
        let me = self.chat.me().await.map_err(anyhow::Error::new)?;
        if user.is_empty() || user == me.user_id {
            return Ok(());
        }
        let channel = event["channel"].as_str().unwrap_or_default().to_owned();
        let ts = event["ts"].as_str().unwrap_or_default().to_owned();
        let raw = event["text"].as_str().unwrap_or_default();
        let thread_ts = event["thread_ts"].as_str().filter(|t| *t != ts);
        let actor = Actor {
            platform: Platform::Slack,
            server: Self::team(p),
            user_id: user.to_owned(),
            display_name: user.to_owned(),
            channel_id: Some(channel.clone()),
            manager: false,
        };
        if event["channel_type"] == "im" {
            let reply = self
                .app
                .dm_message(&actor, &render::typed(raw), thread_ts)
                .await
                .unwrap_or_else(|e| Reply::private(e.to_user_text()));
            let out = ChatMessage {
                text: career_circle_core::chat::fit::shorten(reply.text, &CAPABILITIES, None),
                buttons: reply.buttons,
                attachments: reply.files,
                reply_to: None,
            };
            // Keyed by the member's message, so a find after a lost answer sees it.
            self.chat
                .send(
                    &Destination::Channel {
                        channel_id: channel,
                    },
                    &out,
                    Some(&format!("re{ts}")),
                )
                .await?;
            return Ok(());
        }
        let Some(root) = thread_ts else {
            return Ok(());
        };
        let recorded = self
            .app
            .channel_message(
                &actor,
                &ThreadRef {
                    channel_id: channel,
                    root_message_id: Some(root.to_owned()),
                },
                &ts,
                &render::typed(raw),
                None,
                &render::mentions(raw),
            )
            .await;
        if let Err(e) = recorded {
            // Nothing to answer in the thread; to_user_text logs the cause with an id.
            let _logged_as = e.to_user_text();
        }
        Ok(())
    }

    /// A reply where Slack expects it: a modal through `views.open`, words through the `response_url` (ephemeral
    /// unless meant for the channel), files in the member's DM.
    async fn answer(
        &self,
        actor: &Actor,
        reply: Reply,
        trigger_id: Option<&str>,
        response_url: Option<&str>,
        metadata: &Value,
    ) -> anyhow::Result<()> {
        if let Some(modal) = &reply.modal {
            let Some(trigger) = trigger_id else {
                return Ok(());
            };
            let view = render::modal(modal, &metadata.to_string());
            self.chat
                .web()
                .call(
                    "views.open",
                    &json!({"trigger_id": trigger, "view": view}),
                    Body::Json,
                    None,
                )
                .await?;
            return Ok(());
        }
        if !reply.files.is_empty() {
            // Exports and the like are personal: they go to the member's DM.
            return self.to_dm(actor, reply).await;
        }
        let Some(url) = response_url else {
            return self.to_dm(actor, reply).await;
        };
        let text = career_circle_core::chat::fit::shorten(reply.text, &CAPABILITIES, None);
        let body = json!({
            "response_type": if reply.audience == Audience::Channel { "in_channel" } else { "ephemeral" },
            "replace_original": false,
            "text": render::mrkdwn(&text),
            "blocks": render::blocks(&text, &reply.buttons),
        });
        let sent = self
            .chat
            .web()
            .client()
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await?;
        if !sent.status().is_success() {
            anyhow::bail!("response_url answered {}", sent.status());
        }
        Ok(())
    }

    async fn to_dm(&self, actor: &Actor, reply: Reply) -> anyhow::Result<()> {
        if reply.text.is_empty() && reply.files.is_empty() {
            return Ok(());
        }
        let out = ChatMessage {
            text: career_circle_core::chat::fit::shorten(reply.text, &CAPABILITIES, None),
            buttons: reply.buttons,
            attachments: reply.files,
            reply_to: None,
        };
        match self
            .chat
            .send(
                &Destination::Dm {
                    user_id: actor.user_id.clone(),
                },
                &out,
                None,
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(e @ ChatError::Broken { .. }) => Err(e.into()),
            Err(e) => {
                tracing::warn!(error = %e, "could not answer in the member's DM");
                Ok(())
            }
        }
    }
}

/// Slack's shape for refusing a form: an error under the field's block.
pub fn field_errors(block_id: &str, message: &str) -> Value {
    json!({"response_action": "errors", "errors": { block_id: message.chars().take(300).collect::<String>() }})
}

/// Slack writes users and channels in command text as `<@U123|ada>` / `<#C123|general>`: the id is what counts.
pub fn normalise(kind: Kind, value: &str) -> String {
    let v = value.trim();
    let inner = v
        .strip_prefix('<')
        .and_then(|r| r.strip_suffix('>'))
        .unwrap_or(v);
    let id = inner.split('|').next().unwrap_or_default();
    match kind {
        Kind::User => id.trim_start_matches('@').to_owned(),
        Kind::Channel => id.trim_start_matches('#').to_owned(),
        _ => value.to_owned(),
    }
}
