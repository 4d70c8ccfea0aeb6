//! Neutral text: what the bot says, in a small vocabulary every platform can render its own way (Discord markdown,
//! Slack mrkdwn, plain text in the terminal). Use cases and renders build `Text`; only adapters turn it into a
//! platform's markup, so member text is escaped where the platform needs it and can never become markup that pings.

use std::fmt;

/// A piece of a line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Span {
    /// Words, the bot's own or a member's: shown as typed.
    Plain(String),
    Bold(String),
    Italic(String),
    /// Something to type exactly (`done <link>`).
    Code(String),
    Link {
        label: String,
        url: String,
    },
    /// A platform user, tagged on purpose: the adapter lets this user (and only the users named this way) be pinged.
    Mention(String),
    /// A channel, by platform id: shown as a link to it.
    Channel(String),
    /// A command to try, without its slash: "circle join NAME". Each platform writes its own command name.
    Command(String),
}

/// A line of the message, or a block of lines that belong together.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Block {
    /// One line (an empty one is a paragraph break). Plain text inside may hold line breaks of its own.
    Line(Vec<Span>),
    /// A bullet point.
    Item(Vec<Span>),
    /// Quoted words (a member's own, quoted back to them): every line of it is shown as a quote.
    Quote(Vec<Span>),
}

impl Block {
    pub fn spans(&self) -> &[Span] {
        match self {
            Self::Line(s) | Self::Item(s) | Self::Quote(s) => s,
        }
    }
}

/// A message's words. Serializable so words worked out now can be sent later (an edit of the bot's own post).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Text {
    blocks: Vec<Block>,
}

impl Text {
    pub fn new() -> Self {
        Self::default()
    }

    /// One line of plain words.
    pub fn plain(words: impl Into<String>) -> Self {
        let mut text = Self::new();
        text.line(vec![Span::Plain(words.into())]);
        text
    }

    pub fn from_blocks(blocks: Vec<Block>) -> Self {
        Self { blocks }
    }

    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }

    pub fn into_blocks(self) -> Vec<Block> {
        self.blocks
    }

    pub fn is_empty(&self) -> bool {
        self.blocks
            .iter()
            .all(|b| b.spans().iter().all(|s| span_words(s).trim().is_empty()))
    }

    pub fn line(&mut self, spans: Vec<Span>) -> &mut Self {
        self.blocks.push(Block::Line(spans));
        self
    }

    pub fn item(&mut self, spans: Vec<Span>) -> &mut Self {
        self.blocks.push(Block::Item(spans));
        self
    }

    pub fn quote(&mut self, spans: Vec<Span>) -> &mut Self {
        self.blocks.push(Block::Quote(spans));
        self
    }

    /// An empty line: the break between paragraphs.
    pub fn blank(&mut self) -> &mut Self {
        self.blocks.push(Block::Line(Vec::new()));
        self
    }

    pub fn push(&mut self, block: Block) -> &mut Self {
        self.blocks.push(block);
        self
    }

    pub fn append(&mut self, other: Text) -> &mut Self {
        self.blocks.extend(other.blocks);
        self
    }

    /// Users the message tags on purpose: the only ones a platform may ping.
    pub fn mentioned_users(&self) -> Vec<String> {
        let mut users: Vec<String> = Vec::new();
        for block in &self.blocks {
            for span in block.spans() {
                if let Span::Mention(id) = span
                    && !users.contains(id)
                {
                    users.push(id.clone());
                }
            }
        }
        users
    }

    /// The words without any markup, one block a line: for logs, tests and length estimates.
    pub fn to_plain(&self) -> String {
        render(self, &PlainMarkup)
    }
}

impl From<&str> for Text {
    fn from(words: &str) -> Self {
        Text::plain(words)
    }
}

impl From<String> for Text {
    fn from(words: String) -> Self {
        Text::plain(words)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_plain())
    }
}

impl From<&str> for Span {
    fn from(words: &str) -> Self {
        Span::Plain(words.to_owned())
    }
}

impl From<String> for Span {
    fn from(words: String) -> Self {
        Span::Plain(words)
    }
}

impl From<&String> for Span {
    fn from(words: &String) -> Self {
        Span::Plain(words.clone())
    }
}

pub fn bold(words: impl Into<String>) -> Span {
    Span::Bold(words.into())
}

pub fn italic(words: impl Into<String>) -> Span {
    Span::Italic(words.into())
}

pub fn code(words: impl Into<String>) -> Span {
    Span::Code(words.into())
}

pub fn link(label: impl Into<String>, url: impl Into<String>) -> Span {
    Span::Link {
        label: label.into(),
        url: url.into(),
    }
}

pub fn mention(user_id: impl Into<String>) -> Span {
    Span::Mention(user_id.into())
}

pub fn channel(channel_id: impl Into<String>) -> Span {
    Span::Channel(channel_id.into())
}

/// A command hint, written without its slash: `cmd("circle join NAME")`.
pub fn cmd(command: impl Into<String>) -> Span {
    Span::Command(command.into())
}

/// The spans of one line: `spans!["Hi ", name, ", it's ", bold(label)]`. Strings become plain words.
#[macro_export]
macro_rules! spans {
    ($($span:expr),* $(,)?) => {
        vec![$($crate::chat::text::Span::from($span)),*]
    };
}

/// A one-line `Text`: `text!["Circle ", bold(name), " is open."]`.
#[macro_export]
macro_rules! text {
    ($($span:expr),* $(,)?) => {{
        let mut t = $crate::chat::text::Text::new();
        t.line($crate::spans![$($span),*]);
        t
    }};
}

/// How one platform writes each kind of span. `render` does the layout (lines, bullets, quotes) once for all.
pub trait Markup {
    /// Member or bot words, escaped as the platform needs so they show as typed.
    fn plain(&self, words: &str) -> String;
    fn bold(&self, words: &str) -> String;
    fn italic(&self, words: &str) -> String;
    fn code(&self, words: &str) -> String;
    fn link(&self, label: &str, url: &str) -> String;
    fn mention(&self, user_id: &str) -> String;
    fn channel(&self, channel_id: &str) -> String;
    fn command(&self, command: &str) -> String;
    /// What starts a bullet point.
    fn bullet(&self) -> &'static str {
        "• "
    }
    /// What starts each line of a quote.
    fn quote_prefix(&self) -> &'static str {
        "> "
    }
}

pub fn render_spans(spans: &[Span], markup: &dyn Markup) -> String {
    let mut out = String::new();
    for span in spans {
        out.push_str(&match span {
            Span::Plain(w) => markup.plain(w),
            Span::Bold(w) => markup.bold(w),
            Span::Italic(w) => markup.italic(w),
            Span::Code(w) => markup.code(w),
            Span::Link { label, url } => markup.link(label, url),
            Span::Mention(id) => markup.mention(id),
            Span::Channel(id) => markup.channel(id),
            Span::Command(c) => markup.command(c),
        });
    }
    out
}

pub fn render_block(block: &Block, markup: &dyn Markup) -> String {
    match block {
        Block::Line(spans) => render_spans(spans, markup),
        Block::Item(spans) => format!("{}{}", markup.bullet(), render_spans(spans, markup)),
        Block::Quote(spans) => render_spans(spans, markup)
            .lines()
            .map(|l| format!("{}{l}", markup.quote_prefix()))
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

/// The whole text in a platform's markup, one block a line.
pub fn render(text: &Text, markup: &dyn Markup) -> String {
    text.blocks
        .iter()
        .map(|b| render_block(b, markup))
        .collect::<Vec<_>>()
        .join("\n")
}

fn span_words(span: &Span) -> &str {
    match span {
        Span::Plain(w) | Span::Bold(w) | Span::Italic(w) | Span::Code(w) | Span::Command(w) => w,
        Span::Link { label, .. } => label,
        Span::Mention(id) | Span::Channel(id) => id,
    }
}

/// Markup-free words, as the terminal shows them.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlainMarkup;

impl Markup for PlainMarkup {
    fn plain(&self, words: &str) -> String {
        words.to_owned()
    }
    fn bold(&self, words: &str) -> String {
        words.to_owned()
    }
    fn italic(&self, words: &str) -> String {
        words.to_owned()
    }
    fn code(&self, words: &str) -> String {
        format!("`{words}`")
    }
    fn link(&self, label: &str, url: &str) -> String {
        if label == url {
            url.to_owned()
        } else {
            format!("{label} ({url})")
        }
    }
    fn mention(&self, user_id: &str) -> String {
        format!("@{user_id}")
    }
    fn channel(&self, channel_id: &str) -> String {
        format!("#{channel_id}")
    }
    fn command(&self, command: &str) -> String {
        format!("`/{command}`")
    }
}

/// The terminal's way: plain words with the markdown habits people read without thinking (`**bold**`).
#[derive(Debug, Clone, Copy, Default)]
pub struct TerminalMarkup;

impl Markup for TerminalMarkup {
    fn plain(&self, words: &str) -> String {
        words.to_owned()
    }
    fn bold(&self, words: &str) -> String {
        format!("**{words}**")
    }
    fn italic(&self, words: &str) -> String {
        format!("_{words}_")
    }
    fn code(&self, words: &str) -> String {
        PlainMarkup.code(words)
    }
    fn link(&self, label: &str, url: &str) -> String {
        PlainMarkup.link(label, url)
    }
    fn mention(&self, user_id: &str) -> String {
        PlainMarkup.mention(user_id)
    }
    fn channel(&self, channel_id: &str) -> String {
        PlainMarkup.channel(channel_id)
    }
    fn command(&self, command: &str) -> String {
        PlainMarkup.command(command)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_lines_items_quotes() {
        let mut t = text!["Hi ", bold("Ada"), ", try ", cmd("spec edit"), "."];
        t.item(spans!["one"]).blank().quote(spans!["first\nsecond"]);
        assert_eq!(
            t.to_plain(),
            "Hi Ada, try `/spec edit`.\n• one\n\n> first\n> second"
        );
        assert_eq!(t.mentioned_users(), Vec::<String>::new());
        let m = text![mention("42"), " reads ", mention("42"), mention("7")];
        assert_eq!(m.mentioned_users(), vec!["42".to_owned(), "7".to_owned()]);
        assert!(Text::new().is_empty() && !Text::plain("x").is_empty());
    }
}
