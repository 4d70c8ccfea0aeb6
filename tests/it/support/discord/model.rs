//! What the loopback knows about its users, channels and messages, and the JSON Discord shows for
//! them. REST answers must pass the spec's response schemas; gateway payloads (which the spec does
//! not cover) must deserialize into serenity's models, which the tests check.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use serenity::model::Timestamp;

/// 2015-01-01T00:00:00Z, where Discord's snowflakes count from.
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

static LAST_ID: AtomicU64 = AtomicU64::new(0);

/// A fresh snowflake: the current time in the top bits like Discord's, and never a repeat even
/// when two are made in the same millisecond.
pub fn snowflake() -> String {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let timed = now_ms.saturating_sub(DISCORD_EPOCH_MS) << 22;
    let mut last = LAST_ID.load(Ordering::Relaxed);
    loop {
        let next = timed.max(last + 1);
        match LAST_ID.compare_exchange(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next.to_string(),
            Err(seen) => last = seen,
        }
    }
}

pub fn now_iso() -> String {
    Timestamp::now().to_string()
}

#[derive(Debug, Clone)]
pub struct UserRec {
    pub id: String,
    pub name: String,
    pub bot: bool,
    /// Discord refuses DMs to this user with 50007.
    pub dms_closed: bool,
    pub joined_at: String,
    /// Has the Manage Server permission (interactions carry it in `member.permissions`).
    pub manager: bool,
    /// The account is gone: Discord answers 10013 Unknown User for it.
    pub deleted: bool,
}

/// A guild: who is in it, and whether the bot still is.
#[derive(Debug, Clone)]
pub struct GuildRec {
    pub id: String,
    pub name: String,
    pub owner_id: String,
    pub everyone_role_id: String,
    pub bot_role_id: String,
    /// User ids of the members, the bot included while it is in the guild.
    pub members: std::collections::BTreeSet<String>,
    /// False once the bot was removed (kicked, banned): its REST calls there fail with 50001.
    pub bot_in: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    GuildText,
    Dm,
    PublicThread,
    PrivateThread,
}

impl ChannelKind {
    pub fn code(self) -> u64 {
        match self {
            Self::GuildText => 0,
            Self::Dm => 1,
            Self::PublicThread => 11,
            Self::PrivateThread => 12,
        }
    }

    pub fn is_thread(self) -> bool {
        matches!(self, Self::PublicThread | Self::PrivateThread)
    }
}

#[derive(Debug, Clone)]
pub struct ChannelRec {
    pub id: String,
    pub kind: ChannelKind,
    pub name: String,
    pub guild_id: Option<String>,
    pub parent_id: Option<String>,
    pub position: u64,
    /// DMs: the other party.
    pub recipient_id: Option<String>,
    /// Threads: who opened it.
    pub owner_id: Option<String>,
    pub archived: bool,
    pub locked: bool,
    pub auto_archive_duration: u64,
    pub archive_timestamp: Option<String>,
    pub created: String,
    pub last_message_id: Option<String>,
    pub message_count: u64,
}

/// A user as the REST API shows other users (`UserResponse`).
pub fn user_json(user: &UserRec) -> Value {
    json!({
        "id": user.id,
        "username": user.name,
        "global_name": user.name,
        "discriminator": "0",
        "avatar": null,
        "avatar_decoration_data": null,
        "collectibles": null,
        "banner": null,
        "accent_color": null,
        "public_flags": 0,
        "flags": 0,
        "bot": user.bot,
        "primary_guild": null,
    })
}

/// The bot itself (`UserPIIResponse`; also READY's `user`).
pub fn current_user_json(user: &UserRec) -> Value {
    json!({
        "id": user.id,
        "username": user.name,
        "global_name": null,
        "discriminator": "0",
        "avatar": null,
        "banner": null,
        "accent_color": null,
        "public_flags": 0,
        "flags": 0,
        "bot": true,
        "mfa_enabled": false,
        "locale": "en-US",
        "verified": true,
        "email": null,
        "premium_type": 0,
    })
}

/// A guild member as the gateway shows it (with the user inside).
pub fn member_json(user: &UserRec, roles: &[String]) -> Value {
    let mut member = partial_member_json(user, roles);
    if let Some(map) = member.as_object_mut() {
        map.insert("user".into(), user_json(user));
    }
    member
}

/// A guild member without the user, as in MESSAGE_CREATE.
pub fn partial_member_json(user: &UserRec, roles: &[String]) -> Value {
    json!({
        "nick": null,
        "avatar": null,
        "banner": null,
        "roles": roles,
        "joined_at": user.joined_at,
        "premium_since": null,
        "deaf": false,
        "mute": false,
        "flags": 0,
        "pending": false,
        "communication_disabled_until": null,
    })
}

/// A member inside an interaction, which also carries the member's permissions in the channel.
pub fn interaction_member_json(user: &UserRec, roles: &[String]) -> Value {
    let mut member = member_json(user, roles);
    if let Some(map) = member.as_object_mut() {
        map.insert(
            "permissions".into(),
            json!(if user.manager {
                MANAGER_PERMISSIONS
            } else {
                MEMBER_PERMISSIONS
            }),
        );
    }
    member
}

/// The members' permissions plus MANAGE_GUILD (1 << 5).
pub const MANAGER_PERMISSIONS: &str = "311385246752";

/// VIEW_CHANNEL | SEND_MESSAGES | SEND_MESSAGES_IN_THREADS | CREATE_PUBLIC_THREADS |
/// READ_MESSAGE_HISTORY | USE_APPLICATION_COMMANDS | ATTACH_FILES | EMBED_LINKS.
pub const MEMBER_PERMISSIONS: &str = "311385246720";
/// The members' permissions plus MANAGE_MESSAGES and MANAGE_THREADS; no ADMINISTRATOR, so a
/// missing permission would show up as it would on a real server.
pub const BOT_PERMISSIONS: &str = "328565124096";

pub fn role_json(id: &str, name: &str, permissions: &str, position: u64) -> Value {
    json!({
        "id": id,
        "name": name,
        "description": null,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
        "hoist": false,
        "icon": null,
        "unicode_emoji": null,
        "position": position,
        "permissions": permissions,
        "managed": false,
        "mentionable": false,
        "flags": 0,
    })
}

/// A channel as `GET /channels/{id}` answers for its kind.
pub fn channel_json(channel: &ChannelRec, users: &dyn Fn(&str) -> Option<UserRec>) -> Value {
    match channel.kind {
        ChannelKind::GuildText => json!({
            "id": channel.id,
            "type": 0,
            "flags": 0,
            "guild_id": channel.guild_id,
            "name": channel.name,
            "position": channel.position,
            "parent_id": channel.parent_id,
            "topic": null,
            "nsfw": false,
            "last_message_id": channel.last_message_id,
            "rate_limit_per_user": 0,
            "permission_overwrites": [],
        }),
        ChannelKind::Dm => {
            let recipients: Vec<Value> = channel
                .recipient_id
                .as_deref()
                .and_then(users)
                .map(|u| user_json(&u))
                .into_iter()
                .collect();
            json!({
                "id": channel.id,
                "type": 1,
                "flags": 0,
                "last_message_id": channel.last_message_id,
                "recipients": recipients,
            })
        }
        ChannelKind::PublicThread | ChannelKind::PrivateThread => json!({
            "id": channel.id,
            "type": channel.kind.code(),
            "flags": 0,
            "guild_id": channel.guild_id,
            "parent_id": channel.parent_id,
            "name": channel.name,
            "owner_id": channel.owner_id,
            "last_message_id": channel.last_message_id,
            "rate_limit_per_user": 0,
            "message_count": channel.message_count,
            "total_message_sent": channel.message_count,
            "member_count": 1,
            "thread_metadata": {
                "archived": channel.archived,
                "archive_timestamp": channel.archive_timestamp,
                "auto_archive_duration": channel.auto_archive_duration,
                "locked": channel.locked,
                "create_timestamp": channel.created,
            },
        }),
    }
}

/// A channel as the gateway's GUILD_CREATE lists it (no guild id inside; serenity fills it in).
pub fn guild_create_channel_json(channel: &ChannelRec) -> Value {
    let mut value = channel_json(channel, &|_| None);
    if let Some(map) = value.as_object_mut() {
        map.remove("guild_id");
    }
    value
}

pub struct GuildView<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub owner_id: &'a str,
    pub everyone_role_id: &'a str,
    pub bot_role_id: &'a str,
    pub channels: Vec<&'a ChannelRec>,
    pub members: Vec<(&'a UserRec, Vec<String>)>,
}

/// GUILD_CREATE's payload: the guild with its channels, roles and members.
pub fn guild_create_json(guild: &GuildView<'_>, joined_at: &str) -> Value {
    let channels: Vec<Value> = guild
        .channels
        .iter()
        .filter(|c| !c.kind.is_thread())
        .map(|c| guild_create_channel_json(c))
        .collect();
    let threads: Vec<Value> = guild
        .channels
        .iter()
        .filter(|c| c.kind.is_thread() && !c.archived)
        .map(|c| guild_create_channel_json(c))
        .collect();
    let members: Vec<Value> = guild
        .members
        .iter()
        .map(|(u, roles)| member_json(u, roles))
        .collect();
    let mut guild_json = json!({
        "id": guild.id,
        "name": guild.name,
        "icon": null,
        "icon_hash": null,
        "splash": null,
        "discovery_splash": null,
        "owner_id": guild.owner_id,
        "afk_channel_id": null,
        "afk_timeout": 300,
        "widget_enabled": false,
        "widget_channel_id": null,
        "verification_level": 1,
        "default_message_notifications": 1,
        "explicit_content_filter": 2,
        "roles": [
            role_json(guild.everyone_role_id, "@everyone", MEMBER_PERMISSIONS, 0),
            role_json(guild.bot_role_id, "career-circle", BOT_PERMISSIONS, 1),
        ],
        "emojis": [],
        "features": [],
        "mfa_level": 0,
        "application_id": null,
        "system_channel_id": null,
        "system_channel_flags": 0,
        "rules_channel_id": null,
        "max_presences": null,
        "max_members": 500_000,
        "vanity_url_code": null,
        "description": null,
        "banner": null,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": null,
        "max_video_channel_users": 25,
        "max_stage_video_channel_users": 50,
        "nsfw_level": 0,
        "stickers": [],
        "premium_progress_bar_enabled": false,
        "safety_alerts_channel_id": null,
    });
    // Split in two: one json! this size exceeds the macro recursion limit.
    let gateway_only = json!({
        "joined_at": joined_at,
        "large": false,
        "unavailable": false,
        "member_count": members.len(),
        "voice_states": [],
        "members": members,
        "channels": channels,
        "threads": threads,
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "lazy": true,
    });
    if let (Some(map), Value::Object(extra)) = (guild_json.as_object_mut(), gateway_only) {
        map.extend(extra);
    }
    guild_json
}

/// What the bot asked for in a message body, turned into how Discord shows it back.
pub struct MessageDraft<'a> {
    pub id: String,
    pub channel_id: &'a str,
    pub author: &'a UserRec,
    pub body: &'a Value,
    /// (attachment id, filename, size) for each uploaded file.
    pub files: Vec<(String, String, usize)>,
    pub kind: u64,
    pub webhook_id: Option<&'a str>,
    pub application_id: Option<&'a str>,
    pub referenced: Option<Value>,
}

/// A message as the REST API returns it (`MessageResponse`).
pub fn message_json(draft: MessageDraft<'_>) -> Value {
    let body = draft.body;
    let attachments = attachments_json(draft.channel_id, &draft.files);
    let mut message = json!({
        "id": draft.id,
        "channel_id": draft.channel_id,
        "author": user_json(draft.author),
        "type": draft.kind,
        "content": body.get("content").and_then(Value::as_str).unwrap_or_default(),
        "mentions": [],
        "mention_roles": [],
        "mention_everyone": false,
        "attachments": attachments,
        "embeds": embeds_json(body.get("embeds")),
        "timestamp": now_iso(),
        "edited_timestamp": null,
        "flags": body.get("flags").and_then(Value::as_u64).unwrap_or(0),
        "components": components_json(body.get("components")),
        "pinned": false,
        "tts": body.get("tts").and_then(Value::as_bool).unwrap_or(false),
    });
    let Some(map) = message.as_object_mut() else {
        return message;
    };
    if let Some(nonce) = body.get("nonce").filter(|n| !n.is_null()) {
        map.insert("nonce".into(), nonce.clone());
    }
    if let Some(id) = draft.webhook_id {
        map.insert("webhook_id".into(), json!(id));
    }
    if let Some(id) = draft.application_id {
        map.insert("application_id".into(), json!(id));
    }
    if let Some(referenced) = draft.referenced {
        attach_reference(map, referenced);
    }
    message
}

/// Makes a message a reply: `message_reference` plus the referenced message, nested one level only as Discord
/// does (the referenced message comes without its own reference).
pub fn attach_reference(message: &mut serde_json::Map<String, Value>, mut referenced: Value) {
    message.insert(
        "message_reference".into(),
        json!({"type": 0, "channel_id": referenced["channel_id"], "message_id": referenced["id"]}),
    );
    if let Some(inner) = referenced.as_object_mut() {
        inner.remove("referenced_message");
    }
    message.insert("referenced_message".into(), referenced);
}

/// Applies an edit body (`PATCH` of a message) to a stored message.
pub fn apply_edit(message: &mut Value, body: &Value, files: &[(String, String, usize)]) {
    let channel_id = message["channel_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let Some(map) = message.as_object_mut() else {
        return;
    };
    if let Some(content) = body.get("content") {
        map.insert(
            "content".into(),
            json!(content.as_str().unwrap_or_default()),
        );
    }
    if let Some(embeds) = body.get("embeds") {
        map.insert("embeds".into(), embeds_json(Some(embeds)));
    }
    if body.get("components").is_some() {
        map.insert("components".into(), components_json(body.get("components")));
    }
    if let Some(flags) = body.get("flags").and_then(Value::as_u64) {
        map.insert("flags".into(), json!(flags));
    }
    // A deferred response stops "thinking" once it is edited.
    if let Some(flags) = map.get("flags").and_then(Value::as_u64) {
        map.insert("flags".into(), json!(flags & !LOADING_FLAG));
    }
    if !files.is_empty() {
        map.insert(
            "attachments".into(),
            Value::Array(attachments_json(&channel_id, files)),
        );
    } else if let Some(listed) = body.get("attachments").and_then(Value::as_array) {
        // Without new files, `attachments` says which of the message's own to keep; [] removes them all.
        let keep: Vec<&Value> = listed.iter().map(|a| &a["id"]).collect();
        let kept: Vec<Value> = map
            .get("attachments")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|a| keep.contains(&&a["id"]))
            .cloned()
            .collect();
        map.insert("attachments".into(), Value::Array(kept));
    }
    map.insert("edited_timestamp".into(), json!(now_iso()));
}

fn attachments_json(channel_id: &str, files: &[(String, String, usize)]) -> Vec<Value> {
    files
        .iter()
        .map(|(id, filename, size)| {
            let url =
                format!("https://cdn.discordapp.com/attachments/{channel_id}/{id}/{filename}");
            json!({
                "id": id,
                "filename": filename,
                "size": size,
                "url": url,
                "proxy_url": url.replace("cdn.discordapp.com", "media.discordapp.net"),
                "content_type": guess_content_type(filename),
            })
        })
        .collect()
}

/// MessageFlags.LOADING: the "is thinking…" state of a deferred interaction response.
pub const LOADING_FLAG: u64 = 1 << 7;
/// MessageFlags.EPHEMERAL.
pub const EPHEMERAL_FLAG: u64 = 1 << 6;

/// Request embeds → response embeds: Discord drops the nulls, types every embed and every
/// field (`inline`), and keeps the rest as sent.
fn embeds_json(embeds: Option<&Value>) -> Value {
    fn without_nulls(value: &Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.clone(), without_nulls(v)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
            other => other.clone(),
        }
    }
    let embeds = embeds
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|embed| {
            let mut embed = without_nulls(embed);
            if let Some(map) = embed.as_object_mut() {
                map.entry("type").or_insert_with(|| json!("rich"));
                for media in ["image", "thumbnail"] {
                    if let Some(Value::Object(media)) = map.get_mut(media) {
                        media.remove("is_animated");
                    }
                }
                if let Some(Value::Array(fields)) = map.get_mut("fields") {
                    for field in fields.iter_mut().filter_map(Value::as_object_mut) {
                        field.entry("inline").or_insert(Value::Bool(false));
                    }
                }
            }
            embed
        });
    Value::Array(embeds.collect())
}

/// Request components → response components: Discord numbers every component with an `id`.
fn components_json(components: Option<&Value>) -> Value {
    fn number(node: &Value, next: &mut u64) -> Value {
        let Some(map) = node.as_object() else {
            return node.clone();
        };
        let mut out = serde_json::Map::new();
        for (key, value) in map {
            if value.is_null() {
                continue;
            }
            let value = match key.as_str() {
                "components" => Value::Array(
                    value
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|c| number(c, next))
                        .collect(),
                ),
                _ => value.clone(),
            };
            out.insert(key.clone(), value);
        }
        if !out.contains_key("id") {
            *next += 1;
            out.insert("id".into(), json!(*next));
        }
        Value::Object(out)
    }
    let mut next = 0;
    Value::Array(
        components
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|c| number(c, &mut next))
            .collect(),
    )
}

fn guess_content_type(filename: &str) -> &'static str {
    match filename
        .rsplit('.')
        .next()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("txt") => "text/plain; charset=utf-8",
        Some("csv") => "text/csv; charset=utf-8",
        Some("json") => "application/json",
        Some("pdf") => "application/pdf",
        _ => "application/octet-stream",
    }
}
