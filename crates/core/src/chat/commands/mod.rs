//! The command table and what is built from it: checking a platform's invocation, the typed `Command`, the text
//! grammar of typed commands, and `/help`.

pub mod command;
pub mod grammar;
pub mod invocation;
pub mod table;

pub use command::Command;
pub use invocation::{Invocation, Value};
pub use table::{COMMANDS, Family, Kind, Leaf, Opt};

use crate::chat::text::{Span, Text, bold, cmd, code};
use crate::spans;

/// How a command is written in help: its path, required options by name, optional ones in brackets.
pub fn usage(family: &Family, leaf: &Leaf) -> String {
    let mut out = table::path(family, leaf);
    for o in leaf.options {
        if o.required {
            out.push_str(&format!(" {}", o.name));
        } else {
            out.push_str(&format!(" [{}]", o.name));
        }
    }
    out
}

/// Usage in the overview: the required options and up to two optional ones, then `[…]`, so every command still
/// fits one message; the platform's own command picker shows the rest.
fn short_usage(family: &Family, leaf: &Leaf) -> String {
    const OPTIONAL_SHOWN: usize = 2;
    let mut out = table::path(family, leaf);
    let optional = leaf.options.iter().filter(|o| !o.required).count();
    let mut shown = 0;
    for o in leaf.options {
        if o.required {
            out.push_str(&format!(" {}", o.name));
        } else if optional <= OPTIONAL_SHOWN + 1 || shown < OPTIONAL_SHOWN {
            shown += 1;
            out.push_str(&format!(" [{}]", o.name));
        }
    }
    if shown < optional {
        out.push_str(" […]");
    }
    out
}

/// The overview: every family, every command in it.
pub fn help_text() -> Text {
    let mut text = Text::new();
    text.line(spans![
        bold("career-circle"),
        ": PM your career like a product, with your circle keeping you honest."
    ]);
    // Every family but this overview itself, which the last line names.
    for family in COMMANDS.iter().filter(|f| f.name != "help") {
        let mut line: Vec<Span> = spans![bold(family.title), " "];
        for (i, leaf) in family.leaves.iter().enumerate() {
            if i > 0 {
                line.push(", ".into());
            }
            line.push(cmd(short_usage(family, leaf)));
        }
        text.line(line);
    }
    text.line(spans![
        "Nudges arrive on the 1st at 09:00 your time; reply ",
        code("done <link>"),
        " to a nudge when you publish, and reply to the check-in prompt to answer it. ",
        cmd("help"),
        " shows this overview."
    ]);
    text
}
