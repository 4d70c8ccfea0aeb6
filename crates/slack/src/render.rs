//! Neutral text as Slack mrkdwn, messages as Block Kit, forms as modal views; and Slack's own text back into the
//! words a member typed. Member text is escaped (`&`, `<`, `>`), so it can never become a link, a mention or one
//! of Slack's broadcast pings (`<!everyone>`, `<!here>`, `<!channel>`).

use serde_json::{Value, json};

use career_circle_core::app::reply::{InputStyle, Modal};
use career_circle_core::chat::commands::table::{COMMANDS, UMBRELLA};
use career_circle_core::chat::text::{Markup, Text, render};
use career_circle_core::chat::{Button, ButtonStyle, Capabilities, Platform};

/// Slack's limits, as its Block Kit reference states them. A message's words go in one section block, whose text
/// holds 3,000 characters; modal inputs 3,000; view titles 24; action ids 255; 25 elements per actions block.
pub static CAPABILITIES: Capabilities = Capabilities {
    platform: Platform::Slack,
    message_max: SECTION_MAX,
    form_inputs_max: 10,
    form_input_max: 3_000,
    input_label_max: 2_000,
    form_title_max: 24,
    button_label_max: 75,
    buttons_max: 25,
    // No style draws Slack's default button, which stands in for the styles it lacks.
    button_styles: &[
        ButtonStyle::Secondary,
        ButtonStyle::Primary,
        ButtonStyle::Danger,
    ],
    custom_id_max: 255,
    thread_title_max: 150,
    // Slack has no idempotency key: a resend is found by the key in the message's metadata instead.
    resend_dedup: None,
    closes_threads: false,
    flat_threads: true,
    markup: &SlackMarkup,
};

/// The longest text of one section block.
pub const SECTION_MAX: usize = 3_000;

/// The metadata event type that carries a delivery's key.
pub const DELIVERY_EVENT: &str = "career_circle_delivery";

/// Slack mrkdwn.
#[derive(Debug, Clone, Copy, Default)]
pub struct SlackMarkup;

/// `&`, `<` and `>` as Slack wants them in text it should show as typed.
pub fn escape(words: &str) -> String {
    words
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl Markup for SlackMarkup {
    fn plain(&self, words: &str) -> String {
        escape(words)
    }
    fn bold(&self, words: &str) -> String {
        format!("*{}*", escape(words))
    }
    fn italic(&self, words: &str) -> String {
        format!("_{}_", escape(words))
    }
    fn code(&self, words: &str) -> String {
        format!("`{}`", escape(&words.replace('`', "'")))
    }
    fn link(&self, label: &str, url: &str) -> String {
        // A URL with a `|` or `>` would end the link early; such a URL is shown as words instead.
        if url.contains(['|', '>', '<', ' '])
            || !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return escape(&format!("{label} ({url})"));
        }
        if label == url {
            format!("<{url}>")
        } else {
            format!("<{url}|{}>", escape(label).replace('|', "¦"))
        }
    }
    fn mention(&self, user_id: &str) -> String {
        if is_id(user_id) {
            format!("<@{user_id}>")
        } else {
            escape(&format!("@{user_id}"))
        }
    }
    fn channel(&self, channel_id: &str) -> String {
        if is_id(channel_id) {
            format!("<#{channel_id}>")
        } else {
            escape(&format!("#{channel_id}"))
        }
    }
    fn command(&self, command: &str) -> String {
        format!("`{}`", escape(&slash_command(command)))
    }
    fn quote_prefix(&self) -> &'static str {
        ">"
    }
}

/// Whether text has the shape of a Slack id (`U…`, `W…`, `C…`, `D…`, `G…`): capitals and digits only.
pub fn is_id(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 24
        && text
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// A command as a member types it on Slack: `/circle join NAME`, or through the umbrella command for the families
/// Slack reserves (`/careercircle me timezone ZONE`), as the command table decides.
pub fn slash_command(command: &str) -> String {
    let family = command.split_whitespace().next().unwrap_or_default();
    let own = COMMANDS
        .iter()
        .find(|f| f.name == family)
        .is_some_and(|f| f.own_slack_command);
    if own {
        format!("/{command}")
    } else {
        format!("/{UMBRELLA} {command}")
    }
}

pub fn mrkdwn(text: &Text) -> String {
    render(text, &SlackMarkup)
}

fn plain_text(words: &str, max: usize) -> Value {
    json!({"type": "plain_text", "text": cut(words, max), "emoji": true})
}

fn cut(words: &str, max: usize) -> String {
    words.chars().take(max).collect()
}

fn button(b: &Button) -> Value {
    let mut out = json!({
        "type": "button",
        "text": plain_text(&b.label, CAPABILITIES.button_label_max),
        "action_id": b.custom_id,
        "value": b.custom_id,
    });
    match CAPABILITIES.style(b.style) {
        ButtonStyle::Primary => out["style"] = json!("primary"),
        ButtonStyle::Danger => out["style"] = json!("danger"),
        ButtonStyle::Secondary | ButtonStyle::Success => {}
    }
    out
}

/// A message's blocks: its words in one section, its buttons in one actions block.
pub fn blocks(text: &Text, buttons: &[Button]) -> Vec<Value> {
    let mut out = Vec::new();
    let words = mrkdwn(text);
    if !words.trim().is_empty() {
        out.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": cut(&words, SECTION_MAX)}}));
    }
    if !buttons.is_empty() {
        out.push(json!({
            "type": "actions",
            "elements": buttons.iter().take(CAPABILITIES.buttons_max).map(button).collect::<Vec<_>>(),
        }));
    }
    out
}

/// A form as a modal view: one input block per field, the block and action ids both the field's id, so
/// `view.state.values[id][id]` holds its value.
pub fn modal(modal: &Modal, private_metadata: &str) -> Value {
    let inputs: Vec<Value> = modal
        .inputs
        .iter()
        .map(|i| {
            let mut element = json!({
                "type": "plain_text_input",
                "action_id": i.custom_id,
                "multiline": i.style == InputStyle::Paragraph,
                "max_length": usize::from(i.max_len).min(CAPABILITIES.form_input_max),
            });
            if let Some(v) = i.value.as_deref().filter(|v| !v.is_empty()) {
                element["initial_value"] = json!(cut(v, CAPABILITIES.form_input_max));
            }
            json!({
                "type": "input",
                "block_id": i.custom_id,
                "label": plain_text(&i.label, CAPABILITIES.input_label_max),
                "optional": !i.required,
                "element": element,
            })
        })
        .collect();
    json!({
        "type": "modal",
        "callback_id": modal.custom_id,
        "title": plain_text(&modal.title, CAPABILITIES.form_title_max),
        "submit": plain_text("Save", 24),
        "close": plain_text("Cancel", 24),
        "private_metadata": cut(private_metadata, 3_000),
        "blocks": inputs,
    })
}

/// A member's Slack message as the words they typed: entities back to characters, `<url|label>` and `<url>` to
/// the URL, `<@U123|name>` to `@U123`.
pub fn typed(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('>') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let inner = &after[..end];
        let target = inner.split('|').next().unwrap_or_default();
        match target.chars().next() {
            Some('@') | Some('#') => out.push_str(target),
            Some('!') => out.push_str(&format!("@{}", target.trim_start_matches('!'))),
            _ => out.push_str(target),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The users a member's Slack message mentions (`<@U123>` or `<@U123|name>`).
pub fn mentions(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in text.split("<@").skip(1) {
        let id: String = part
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            .collect();
        if !id.is_empty() && !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use career_circle_core::chat::text::{bold, cmd, link, mention};
    use career_circle_core::text;

    #[test]
    fn member_text_cannot_ping_or_link() {
        let t = text![
            "<!channel> & <!here> <@U1> ",
            bold("<!everyone>"),
            " ",
            link("x>y", "https://e.com/a"),
            " ",
            mention("U42")
        ];
        let out = mrkdwn(&t);
        assert!(!out.contains("<!"), "{out}");
        assert!(
            out.contains("&lt;!channel&gt; &amp; &lt;!here&gt; &lt;@U1&gt;"),
            "{out}"
        );
        assert!(out.contains("<https://e.com/a|x&gt;y>"), "{out}");
        assert!(out.ends_with("<@U42>"), "{out}");
    }

    #[test]
    fn commands_slack_reserves_go_through_the_umbrella() {
        assert_eq!(slash_command("circle join NAME"), "/circle join NAME");
        assert_eq!(
            slash_command("me timezone ZONE"),
            "/careercircle me timezone ZONE"
        );
        assert_eq!(slash_command("help"), "/careercircle help");
        assert_eq!(mrkdwn(&text![cmd("help")]), "`/careercircle help`");
    }

    #[test]
    fn slack_text_reads_back_as_typed() {
        assert_eq!(
            typed("done <https://e.com/p?a=1&amp;b=2> &lt;3 <@U7|ada>"),
            "done https://e.com/p?a=1&b=2 <3 @U7"
        );
        assert_eq!(mentions("thanks <@U7|ada> and <@W9>"), vec!["U7", "W9"]);
    }
}
