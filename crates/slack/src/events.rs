//! What arrives over Socket Mode, turned into one `app` call each: slash commands (their text read by the command
//! table's grammar), button presses (`block_actions`), form submits (`view_submission`), DMs to the bot
//! (`message.im`), replies in review threads (`message.channels`/`message.groups` with `thread_ts`), and the
//! install going away (`tokens_revoked`, `app_uninstalled`). The answer goes back the way Slack expects it: the
//! `response_url`, a modal (`views.open`), the DM, or the ack's `response_action`.

use std::sync::Arc;

use serde_json::{Value, json};

use career_circle_core::app::reply::Audience;
use career_circle_core::app::{Actor, App, Error, Platform, Reply};
use career_circle_core::chat::commands::{Kind, grammar};
use career_circle_core::chat::{ChatError, ChatMessage, ChatPort, Destination, ThreadRef};

use crate::chat_port::SlackChat;
use crate::incoming::{Incoming, parse};
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
        let me = self.chat.me().await.map_err(anyhow::Error::new)?;
        match parse(kind, payload, &me.user_id) {
            Incoming::Command {
                actor,
                line,
                trigger_id,
                response_url,
            } => {
                let reply = match grammar::parse(&line, &normalise) {
                    Ok(invocation) => self.app.invoke(&actor, invocation).await,
                    Err(text) => Reply::private(text),
                };
                let metadata = json!({"channel": actor.channel_id});
                self.answer(
                    &actor,
                    reply,
                    trigger_id.as_deref(),
                    response_url.as_deref(),
                    &metadata,
                )
                .await?;
                self.learn_zone(&actor.user_id).await;
            }
            Incoming::Press {
                actor,
                action_id,
                trigger_id,
                response_url,
            } => {
                let reply = self
                    .app
                    .button(&actor, &action_id)
                    .await
                    .unwrap_or_else(|e| Reply::private(e.to_user_text()));
                let metadata = json!({"channel": actor.channel_id});
                self.answer(
                    &actor,
                    reply,
                    trigger_id.as_deref(),
                    response_url.as_deref(),
                    &metadata,
                )
                .await?;
            }
            Incoming::Submit {
                actor,
                callback_id,
                fields,
            } => return self.view_submission(&actor, &callback_id, &fields).await,
            Incoming::Dm {
                actor,
                channel,
                ts,
                text,
                thread_ts,
            } => {
                let reply = self
                    .app
                    .dm_message(&actor, &text, thread_ts.as_deref())
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
            }
            Incoming::ThreadReply {
                actor,
                channel,
                root,
                ts,
                text,
                mentions,
            } => {
                let thread = ThreadRef {
                    channel_id: channel,
                    root_message_id: Some(root),
                };
                let recorded = self
                    .app
                    .channel_message(&actor, &thread, &ts, &text, None, &mentions)
                    .await;
                if let Err(e) = recorded {
                    // Nothing to answer in the thread; to_user_text logs the cause with an id.
                    let _logged_as = e.to_user_text();
                }
            }
            Incoming::HomeOpened { actor } => self.publish_home(&actor).await?,
            Incoming::UserChanged {
                user_id,
                tz: Some(tz),
            } => {
                self.app
                    .platform_zone(Platform::Slack, &user_id, &tz)
                    .await?;
            }
            Incoming::UserChanged { tz: None, .. } => {}
            // The install is gone: its circles pause until the app is back (a new install reconnects it).
            Incoming::Uninstalled { team: Some(team) } => {
                self.app.bot_removed_from(Platform::Slack, &team).await?;
            }
            Incoming::Uninstalled { team: None } | Incoming::Ignored(_) => {}
        }
        Ok(None)
    }

    /// A member's zone defaults to their Slack profile's: asked of `users.info` once they are a member with no
    /// zone (`user_change` keeps it current after that). A failure only leaves the circle's zone in use.
    async fn learn_zone(&self, user_id: &str) {
        match self.app.needs_platform_zone(Platform::Slack, user_id).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::warn!(error = %e, "could not read a member's zone");
                return;
            }
        }
        let answer = self
            .chat
            .web()
            .call("users.info", &json!({ "user": user_id }), Body::Form, None)
            .await;
        let tz = match &answer {
            Ok(a) => a["user"]["tz"].as_str().unwrap_or_default(),
            Err(e) => {
                tracing::warn!(error = %e, "users.info failed; the circle's zone applies");
                return;
            }
        };
        if let Err(e) = self.app.platform_zone(Platform::Slack, user_id, tz).await {
            tracing::warn!(error = %e, "could not store a member's Slack zone");
        }
    }

    /// The member's dashboard on the Home tab, as the core words it: their circles, commitments, the open
    /// check-in with its Answer button (the prompt's action, so pressing it opens the form), their spec's vision
    /// and phase, and their recent wins.
    async fn publish_home(&self, actor: &Actor) -> anyhow::Result<()> {
        let mut blocks = vec![json!({
            "type": "header",
            "text": {"type": "plain_text", "text": "Your career circle"},
        })];
        for section in self.app.dashboard(actor).await {
            blocks.push(json!({"type": "divider"}));
            blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("*{}*", section.title)}}));
            blocks.extend(render::blocks(&section.reply.text, &section.reply.buttons));
        }
        let view = json!({"type": "home", "blocks": blocks});
        self.chat
            .web()
            .call(
                "views.publish",
                &json!({"user_id": actor.user_id, "view": view}),
                Body::Json,
                None,
            )
            .await?;
        Ok(())
    }

    /// A form's values, checked by the use case; a refusal is shown on the form (`response_action: errors`), a
    /// success goes to the member's DM.
    async fn view_submission(
        &self,
        actor: &Actor,
        callback_id: &str,
        fields: &[(String, String)],
    ) -> anyhow::Result<AckPayload> {
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
        let reply = match self.app.form_submit(actor, callback_id, fields).await {
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
        self.to_dm(actor, reply).await?;
        Ok(None)
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
