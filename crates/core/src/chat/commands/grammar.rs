//! The text form of a command, for platforms where a member types it whole (the console, Slack's slash commands):
//! `circle create name:"PM Circle" timezone:Europe/Berlin`. Words that are not `name:value` fill the command's
//! positional option: `/commit add publish one post`.

use crate::chat::commands::invocation::{Invocation, Value};
use crate::chat::commands::table::{self, Kind};
use crate::chat::text::Text;

/// One word of a typed command: its text (quotes dropped) and where it stands in the line, quotes included.
struct Token {
    text: String,
    start: usize,
    end: usize,
}

/// Splits on whitespace, keeping quoted stretches together (the quotes themselves are dropped).
fn tokens(line: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut any = false;
    let mut start = 0;
    for (i, c) in line.char_indices() {
        let separates = c.is_whitespace() && !quoted;
        if !any && current.is_empty() && !separates {
            start = i;
        }
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            _ if separates => {
                if any || !current.is_empty() {
                    out.push(Token {
                        text: std::mem::take(&mut current),
                        start,
                        end: i,
                    });
                }
                any = false;
            }
            c => current.push(c),
        }
    }
    if any || !current.is_empty() {
        out.push(Token {
            text: current,
            start,
            end: line.len(),
        });
    }
    out
}

/// The free text of a command's last positional option, from its words. Words that stand together in the line are
/// kept as typed (line breaks, quotes and spacing: a check-in or a win is the member's own words); a single quoted
/// stretch loses its quotes (`/commit add "publish one post"`), and words with options between them are joined.
fn free_text(body: &str, words: &[(usize, Token)]) -> String {
    match words {
        [] => String::new(),
        [(_, only)] => only.text.clone(),
        [(first_at, first), .., (last_at, last)] if last_at - first_at + 1 == words.len() => {
            body[first.start..last.end].to_owned()
        }
        _ => words
            .iter()
            .map(|(_, w)| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" "),
    }
}

fn looks_like_option(key: &str) -> bool {
    !key.is_empty() && key.len() <= 32 && key.chars().all(|c| c.is_ascii_lowercase() || c == '_')
}

/// Reads a command typed as text (without its slash). `normalise` turns a platform's way of writing a user or
/// channel (Slack's `<@U123|ada>`) into its id.
pub fn parse(line: &str, normalise: &dyn Fn(Kind, &str) -> String) -> Result<Invocation, Text> {
    let body = line.trim().trim_start_matches('/');
    let mut words = tokens(body).into_iter().enumerate();
    let mut next_word = || words.next().map(|(_, t)| t.text).unwrap_or_default();
    let family = next_word().to_ascii_lowercase();
    let single = table::COMMANDS
        .iter()
        .find(|f| f.name == family)
        .is_some_and(|f| f.is_single());
    let leaf = if single {
        String::new()
    } else {
        next_word().to_ascii_lowercase()
    };
    let mut inv = Invocation {
        family,
        leaf,
        options: Vec::new(),
    };
    let Some((_, leaf)) = table::find(&inv.family, &inv.leaf) else {
        // Unknown commands are explained by `check`, with suggestions.
        return Ok(inv);
    };
    let positional = leaf.options.iter().any(|o| o.positional);
    let mut loose: Vec<(usize, Token)> = Vec::new();
    for (at, token) in words {
        let word = token.text.as_str();
        let Some((key, value)) = word.split_once(':') else {
            loose.push((at, token));
            continue;
        };
        let key = key.to_ascii_lowercase();
        match leaf.option(&key) {
            Some(opt) => {
                let value = match opt.kind {
                    Kind::User | Kind::Channel => normalise(opt.kind, value),
                    _ => value.to_owned(),
                };
                inv.options.push((opt.name.to_owned(), Value::Text(value)));
            }
            // Something that looks like an option but is none (a typo): let `check` name the nearest. Words of a
            // positional option ("https://…", "note: this") stay words unless they are that close to an option.
            None if looks_like_option(&key)
                && (!positional
                    || leaf
                        .options
                        .iter()
                        .any(|o| strsim::jaro_winkler(&key, o.name) > 0.85)) =>
            {
                inv.options.push((key, Value::Text(value.to_owned())));
            }
            None => loose.push((at, token)),
        }
    }
    if !loose.is_empty() {
        // Several positional options (`circle organiser add @ada`) take one word each in order, the last the rest;
        // those already given as name:value are passed over.
        let positional: Vec<_> = leaf
            .options
            .iter()
            .filter(|o| o.positional && !inv.options.iter().any(|(n, _)| n == o.name))
            .collect();
        let Some(last) = positional.last() else {
            if let Some(opt) = leaf.options.iter().find(|o| o.positional) {
                return Err(Text::plain(format!(
                    "The {} option is given twice (once as {}:…, once as plain words).",
                    opt.name, opt.name
                )));
            }
            let path = table::path(
                table::COMMANDS
                    .iter()
                    .find(|f| f.name == inv.family)
                    .unwrap_or(&table::COMMANDS[0]),
                leaf,
            );
            return Err(Text::plain(if leaf.options.is_empty() {
                format!("/{path} takes nothing after it.")
            } else {
                format!(
                    "/{path} takes its options as name:value ({}).",
                    leaf.options
                        .iter()
                        .map(|o| format!("{}:…", o.name))
                        .collect::<Vec<_>>()
                        .join(" ")
                )
            }));
        };
        let ones = (positional.len() - 1).min(loose.len());
        for (opt, (_, word)) in positional.iter().zip(&loose[..ones]) {
            let value = match opt.kind {
                Kind::User | Kind::Channel => normalise(opt.kind, &word.text),
                _ => word.text.clone(),
            };
            inv.options.push((opt.name.to_owned(), Value::Text(value)));
        }
        let joined = free_text(body, &loose[ones..]);
        if !joined.is_empty() {
            let value = match last.kind {
                Kind::User | Kind::Channel => normalise(last.kind, &joined),
                _ => joined,
            };
            inv.options.push((last.name.to_owned(), Value::Text(value)));
        }
    }
    Ok(inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(_: Kind, s: &str) -> String {
        s.to_owned()
    }

    #[test]
    fn options_positional_words_and_quotes() {
        let inv = parse(
            "circle create name:\"PM Circle\" timezone:Europe/Berlin",
            &same,
        )
        .unwrap_or_default();
        assert_eq!(
            (inv.family.as_str(), inv.leaf.as_str()),
            ("circle", "create")
        );
        assert_eq!(
            inv.options,
            vec![
                ("name".to_owned(), Value::Text("PM Circle".to_owned())),
                (
                    "timezone".to_owned(),
                    Value::Text("Europe/Berlin".to_owned())
                )
            ]
        );
        let inv = parse("/commit add publish one post cadence:weekly", &same).unwrap_or_default();
        assert_eq!(
            inv.options,
            vec![
                ("cadence".to_owned(), Value::Text("weekly".to_owned())),
                (
                    "title".to_owned(),
                    Value::Text("publish one post".to_owned())
                )
            ]
        );
        // A link is words, not an option called "https".
        let inv = parse("win add I shipped https://example.com/x", &same).unwrap_or_default();
        assert_eq!(
            inv.options,
            vec![(
                "text".to_owned(),
                Value::Text("I shipped https://example.com/x".to_owned())
            )]
        );
        let help = parse("help", &same).unwrap_or_default();
        assert_eq!((help.family.as_str(), help.leaf.as_str()), ("help", ""));
        assert!(parse("commit list extra words", &same).is_err());
        // Two positional options: one word each, in order.
        let inv = parse("circle organiser add @ada circle:Writers", &same).unwrap_or_default();
        assert_eq!(
            inv.options,
            vec![
                ("circle".to_owned(), Value::Text("Writers".to_owned())),
                ("action".to_owned(), Value::Text("add".to_owned())),
                ("member".to_owned(), Value::Text("@ada".to_owned())),
            ]
        );
        // Free text keeps what was typed: its line breaks, quotes and spacing; a lone quoted stretch loses its quotes.
        let inv = parse(
            "checkin answer On track: \"ship it\", she said.\n\nNext:  negotiate circle:Writers",
            &same,
        )
        .unwrap_or_default();
        assert_eq!(
            inv.options,
            vec![
                ("circle".to_owned(), Value::Text("Writers".to_owned())),
                (
                    "answers".to_owned(),
                    Value::Text("On track: \"ship it\", she said.\n\nNext:  negotiate".to_owned())
                ),
            ]
        );
        let inv = parse("commit add \"publish one post\"", &same).unwrap_or_default();
        assert_eq!(
            inv.options,
            vec![(
                "title".to_owned(),
                Value::Text("publish one post".to_owned())
            )]
        );
        // Words with an option between them are joined, as before.
        let inv =
            parse("win add shipped link:https://x.example the thing", &same).unwrap_or_default();
        assert_eq!(
            inv.options,
            vec![
                (
                    "link".to_owned(),
                    Value::Text("https://x.example".to_owned())
                ),
                (
                    "text".to_owned(),
                    Value::Text("shipped the thing".to_owned())
                ),
            ]
        );
        let inv = parse("circle organiser remove member:@ada", &same).unwrap_or_default();
        assert_eq!(
            inv.options,
            vec![
                ("member".to_owned(), Value::Text("@ada".to_owned())),
                ("action".to_owned(), Value::Text("remove".to_owned())),
            ]
        );
    }
}
