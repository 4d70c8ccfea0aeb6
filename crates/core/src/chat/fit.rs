//! Making text fit a platform's message: split into several messages in order, or shortened with a word on what was
//! left out. Lengths are measured in the platform's own markup, so escaping and markup count too.

use crate::chat::capabilities::Capabilities;
use crate::chat::text::{Block, Span, Text, cmd, italic, render_block};

const CONTINUED: &str = "…";

fn len(block: &Block, caps: &Capabilities) -> usize {
    render_block(block, caps.markup).chars().count()
}

/// The text as messages of at most `caps.message_max` characters each: whole blocks where they fit, a block too long
/// for any message cut between words (marked with "…") and carried on in the next.
pub fn split(text: &Text, caps: &Capabilities) -> Vec<Text> {
    split_at(text, caps, caps.message_max)
}

fn split_at(text: &Text, caps: &Capabilities, max: usize) -> Vec<Text> {
    let max = max.max(16);
    let mut messages: Vec<Vec<Block>> = Vec::new();
    let mut current: Vec<Block> = Vec::new();
    let mut used = 0usize;
    let mut pending: Vec<Block> = text.blocks().to_vec();
    pending.reverse();
    while let Some(block) = pending.pop() {
        let n = len(&block, caps);
        let sep = usize::from(!current.is_empty());
        if used + sep + n <= max {
            used += sep + n;
            current.push(block);
            continue;
        }
        if n <= max && !current.is_empty() {
            // It fits a message of its own: start the next one with it.
            messages.push(std::mem::take(&mut current));
            used = 0;
            pending.push(block);
            continue;
        }
        // Too long for any one message: take what fits here, carry the rest on.
        let room = max.saturating_sub(used + sep);
        match cut_block(&block, caps, room) {
            Some((head, tail)) => {
                current.push(head);
                messages.push(std::mem::take(&mut current));
                used = 0;
                pending.push(tail);
            }
            None if !current.is_empty() => {
                messages.push(std::mem::take(&mut current));
                used = 0;
                pending.push(block);
            }
            None => {
                // Not even a word fits an empty message: cut the characters themselves.
                let (head, tail) = hard_cut(&block, caps, max);
                messages.push(vec![head]);
                if let Some(t) = tail {
                    pending.push(t);
                }
            }
        }
    }
    if !current.is_empty() || messages.is_empty() {
        messages.push(current);
    }
    messages.into_iter().map(Text::from_blocks).collect()
}

/// One message's worth: whole blocks from the start while they fit, then a line saying how much was left out and, when
/// given, the command that shows all of it.
pub fn shorten(text: Text, caps: &Capabilities, more: Option<&str>) -> Text {
    let whole: usize = text.blocks().iter().map(|b| len(b, caps) + 1).sum();
    if whole <= caps.message_max + 1 {
        return text;
    }
    let note = |left: usize| {
        let mut t = Text::new();
        let mut spans = vec![italic(format!(
            "{CONTINUED} {left} more line{} not shown",
            if left == 1 { "" } else { "s" }
        ))];
        if let Some(c) = more {
            spans.push(Span::Plain("; ".to_owned()));
            spans.push(cmd(c));
            spans.push(Span::Plain(" shows them".to_owned()));
        }
        t.line(spans);
        t
    };
    let blocks = text.into_blocks();
    let total = blocks.len();
    let reserve = len(&note(total).into_blocks()[0], caps) + 1;
    let budget = caps.message_max.saturating_sub(reserve);
    let mut kept = Vec::new();
    let mut used = 0;
    for block in blocks {
        let n = len(&block, caps) + usize::from(!kept.is_empty());
        if used + n > budget {
            if kept.is_empty() {
                // The first block alone is too long: keep what fits of it.
                if let Some((head, _)) = cut_block(&block, caps, budget) {
                    kept.push(head);
                }
            }
            break;
        }
        used += n;
        kept.push(block);
    }
    let left = total - kept.len();
    let mut out = Text::from_blocks(kept);
    out.append(note(left.max(1)));
    out
}

fn rebuild(kind: &Block, spans: Vec<Span>) -> Block {
    match kind {
        Block::Line(_) => Block::Line(spans),
        Block::Item(_) => Block::Item(spans),
        Block::Quote(_) => Block::Quote(spans),
    }
}

/// A block's continuation is plain lines (a bullet continued is not a new bullet), a quote stays a quote.
fn continuation(kind: &Block, spans: Vec<Span>) -> Block {
    match kind {
        Block::Quote(_) => Block::Quote(spans),
        _ => Block::Line(spans),
    }
}

fn with_words(span: &Span, words: String) -> Option<Span> {
    match span {
        Span::Plain(_) => Some(Span::Plain(words)),
        Span::Bold(_) => Some(Span::Bold(words)),
        Span::Italic(_) => Some(Span::Italic(words)),
        Span::Code(_) => Some(Span::Code(words)),
        _ => None,
    }
}

fn words_of(span: &Span) -> Option<&str> {
    match span {
        Span::Plain(w) | Span::Bold(w) | Span::Italic(w) | Span::Code(w) => Some(w),
        _ => None,
    }
}

/// Splits a block between words so the head, with its "…", is at most `room` characters; None when no word fits.
fn cut_block(block: &Block, caps: &Capabilities, room: usize) -> Option<(Block, Block)> {
    let spans = block.spans();
    let mut head: Vec<Span> = Vec::new();
    for (i, span) in spans.iter().enumerate() {
        let mut trial = head.clone();
        trial.push(span.clone());
        trial.push(Span::Plain(CONTINUED.to_owned()));
        if len(&rebuild(block, trial), caps) <= room {
            head.push(span.clone());
            continue;
        }
        // This span does not fit whole: try its words.
        let Some(words) = words_of(span) else {
            return finish(block, head, spans[i..].to_vec());
        };
        let breaks: Vec<usize> = words
            .char_indices()
            .filter(|(_, c)| c.is_whitespace())
            .map(|(at, _)| at)
            .collect();
        for &at in breaks.iter().rev() {
            let (a, b) = words.split_at(at);
            let mut trial = head.clone();
            if let Some(s) = with_words(span, a.trim_end().to_owned()) {
                trial.push(s);
            }
            trial.push(Span::Plain(CONTINUED.to_owned()));
            if !a.trim().is_empty() && len(&rebuild(block, trial.clone()), caps) <= room {
                trial.pop();
                let mut tail = Vec::new();
                if let Some(s) = with_words(span, b.trim_start().to_owned()) {
                    tail.push(s);
                }
                tail.extend_from_slice(&spans[i + 1..]);
                return finish(block, trial, tail);
            }
        }
        return finish(block, head, spans[i..].to_vec());
    }
    None
}

fn finish(block: &Block, mut head: Vec<Span>, tail: Vec<Span>) -> Option<(Block, Block)> {
    if head.is_empty() {
        return None;
    }
    head.push(Span::Plain(CONTINUED.to_owned()));
    Some((rebuild(block, head), continuation(block, tail)))
}

/// The last resort for a single word longer than a message: cut the characters, say so with "…".
fn hard_cut(block: &Block, caps: &Capabilities, max: usize) -> (Block, Option<Block>) {
    let plain = render_block(block, caps.markup);
    let keep = max.saturating_sub(1);
    let head: String = plain.chars().take(keep).collect();
    let rest: String = plain.chars().skip(keep).collect();
    let head = Block::Line(vec![Span::Plain(format!("{head}{CONTINUED}"))]);
    let tail = (!rest.is_empty()).then(|| Block::Line(vec![Span::Plain(rest)]));
    (head, tail)
}

/// Words cut to `max` characters at a word boundary, with "…" when anything was left out: for labels and titles.
pub fn clip(words: &str, max: usize) -> String {
    if words.chars().count() <= max {
        return words.to_owned();
    }
    let keep = max.saturating_sub(1);
    let head: String = words.chars().take(keep).collect();
    let at_word = match head.rfind(char::is_whitespace) {
        Some(i) if i > keep / 2 => &head[..i],
        _ => head.as_str(),
    };
    format!("{}{CONTINUED}", at_word.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spans;

    fn caps(max: usize) -> Capabilities {
        Capabilities {
            message_max: max,
            ..Capabilities::CONSOLE
        }
    }

    #[test]
    fn splits_between_blocks_then_words() {
        let mut t = Text::new();
        for i in 0..10 {
            t.item(spans![format!(
                "commitment number {i} with a longish title"
            )]);
        }
        let c = caps(120);
        let parts = split(&t, &c);
        assert!(parts.len() > 1);
        for p in &parts {
            assert!(p.to_plain().chars().count() <= 120, "{}", p.to_plain());
        }
        let joined: Vec<String> = parts.iter().map(Text::to_plain).collect();
        assert_eq!(joined.join("\n"), t.to_plain());

        let long = Text::plain("word ".repeat(100));
        let parts = split(&long, &c);
        assert!(parts.iter().all(|p| p.to_plain().chars().count() <= 120));
        assert!(parts[0].to_plain().ends_with("word…"));
        let words: usize = parts
            .iter()
            .map(|p| p.to_plain().matches("word").count())
            .sum();
        assert_eq!(words, 100);
    }

    #[test]
    fn shorten_says_what_was_left_out() {
        let mut t = Text::new();
        for i in 0..50 {
            t.item(spans![format!("line {i}")]);
        }
        let s = shorten(t.clone(), &caps(100), Some("commit list"));
        let plain = s.to_plain();
        assert!(plain.chars().count() <= 100, "{plain}");
        assert!(plain.contains("more lines not shown; `/commit list` shows them"));
        assert_eq!(shorten(t.clone(), &caps(10_000), None), t);
    }

    #[test]
    fn clips_at_words() {
        assert_eq!(clip("Done: publish one post", 80), "Done: publish one post");
        assert_eq!(
            clip("Done: publish one post every month", 20),
            "Done: publish one…"
        );
        assert!(clip(&"x".repeat(100), 45).chars().count() <= 45);
    }
}
