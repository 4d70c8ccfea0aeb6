//! A command as a platform hands it over (names and values), checked against the table before a use case sees it.

use crate::chat::commands::table::{self, Family, Kind, Leaf, Opt};
use crate::chat::text::{Text, cmd};

/// One option's value as the platform gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Integer(i64),
    Boolean(bool),
    /// A platform user id.
    User(String),
    /// A platform channel id.
    Channel(String),
}

/// A command before checking: its path and the options given.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Invocation {
    pub family: String,
    /// Empty for a family that is a command by itself.
    pub leaf: String,
    pub options: Vec<(String, Value)>,
}

/// The options of a checked command, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    pub family: &'static Family,
    pub leaf: &'static Leaf,
    values: Vec<(&'static str, Value)>,
}

fn nearest<'a>(typed: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    known
        .map(|k| (strsim::jaro_winkler(typed, k), k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

fn short(text: &str) -> String {
    let t: String = text.chars().take(40).collect();
    t.replace(['`', '\n'], " ")
}

impl Invocation {
    /// Checks the command against the table: it exists, every option is known, of its kind, within its limits and
    /// choices, and the required ones are there. Errors say what to type instead.
    pub fn check(self) -> Result<Args, Text> {
        let Some(family) = table::COMMANDS.iter().find(|f| f.name == self.family) else {
            let mut t = Text::new();
            let guess = nearest(&self.family, table::COMMANDS.iter().map(|f| f.name));
            t.line(crate::spans![
                format!("There is no command /{}", short(&self.family)),
                match guess {
                    Some(g) => format!("; did you mean /{g}? "),
                    None => ". ".to_owned(),
                },
                cmd("help"),
                " lists them."
            ]);
            return Err(t);
        };
        let Some(leaf) = family.leaf(&self.leaf) else {
            let names: Vec<&str> = family.leaves.iter().map(|l| l.name).collect();
            return Err(Text::plain(format!(
                "/{} {} is not a command; try one of: {}.",
                family.name,
                short(&self.leaf),
                names
                    .iter()
                    .map(|n| format!("/{} {n}", family.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        let path = table::path(family, leaf);
        let mut values: Vec<(&'static str, Value)> = Vec::new();
        for (name, value) in self.options {
            let Some(opt) = leaf.option(&name) else {
                let hint = match nearest(&name, leaf.options.iter().map(|o| o.name)) {
                    Some(g) => format!(" Did you mean {g}:?"),
                    None if leaf.options.is_empty() => format!(" /{path} takes no options."),
                    None => format!(
                        " It takes: {}.",
                        leaf.options
                            .iter()
                            .map(|o| o.name)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                return Err(Text::plain(format!(
                    "/{path} has no option \"{}\".{hint}",
                    short(&name)
                )));
            };
            let value = check_value(&path, opt, value)?;
            if values.iter().any(|(n, _)| *n == opt.name) {
                return Err(Text::plain(format!(
                    "The {} option is given twice.",
                    opt.name
                )));
            }
            values.push((opt.name, value));
        }
        if let Some(missing) = leaf
            .options
            .iter()
            .find(|o| o.required && !values.iter().any(|(n, _)| *n == o.name))
        {
            let mut t = Text::new();
            t.line(crate::spans![
                format!("/{path} needs {}: ", missing.name),
                cmd(format!("{path} {}:…", missing.name)),
                format!(" ({}).", missing.description)
            ]);
            return Err(t);
        }
        Ok(Args {
            family,
            leaf,
            values,
        })
    }
}

fn check_value(path: &str, opt: &Opt, value: Value) -> Result<Value, Text> {
    let bad = |why: String| Err(Text::plain(format!("/{path} {}: {why}", opt.name)));
    // Text commands hand every value over as text: read it as the option's kind here, once for all platforms.
    let value = match (opt.kind, value) {
        (Kind::Integer, Value::Text(t)) => match t.trim().parse::<i64>() {
            Ok(n) => Value::Integer(n),
            Err(_) => return bad(format!("\"{}\" is not a whole number.", short(&t))),
        },
        (Kind::Boolean, Value::Text(t)) => match t.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" => Value::Boolean(true),
            "false" | "no" | "off" => Value::Boolean(false),
            _ => return bad(format!("\"{}\" is not true or false.", short(&t))),
        },
        (Kind::User, Value::Text(t)) => Value::User(t.trim().to_owned()),
        (Kind::Channel, Value::Text(t)) => Value::Channel(t.trim().to_owned()),
        (_, v) => v,
    };
    match (&value, opt.kind) {
        (Value::Text(t), Kind::Text) => {
            if let Some(max) = opt.max_len
                && t.chars().count() > usize::from(max)
            {
                return bad(format!(
                    "that is {} characters; the limit is {max}.",
                    t.chars().count()
                ));
            }
            if !opt.choices.is_empty()
                && !opt.choices.iter().any(|c| c.eq_ignore_ascii_case(t.trim()))
            {
                return bad(format!(
                    "\"{}\" is not one of {}.",
                    short(t),
                    opt.choices.join(", ")
                ));
            }
        }
        (Value::Integer(n), Kind::Integer) => {
            if opt.min.is_some_and(|m| *n < m) || opt.max.is_some_and(|m| *n > m) {
                return bad(format!(
                    "{n} is outside {} to {}.",
                    opt.min.unwrap_or(i64::MIN),
                    opt.max.unwrap_or(i64::MAX)
                ));
            }
        }
        (Value::Boolean(_), Kind::Boolean)
        | (Value::User(_), Kind::User)
        | (Value::Channel(_), Kind::Channel) => {}
        _ => return bad("that is not the right kind of value.".to_owned()),
    }
    Ok(value)
}

impl Args {
    fn get(&self, name: &str) -> Option<&Value> {
        debug_assert!(
            self.leaf.option(name).is_some(),
            "option {name} is not in the table for /{}",
            table::path(self.family, self.leaf)
        );
        self.values.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    pub fn text(&self, name: &str) -> Option<String> {
        match self.get(name)? {
            Value::Text(t) | Value::User(t) | Value::Channel(t) => {
                Some(t.clone()).filter(|t| !t.trim().is_empty())
            }
            Value::Integer(n) => Some(n.to_string()),
            Value::Boolean(b) => Some(b.to_string()),
        }
    }

    /// A required option: `check` saw to it that it is there.
    pub fn required(&self, name: &str) -> String {
        self.text(name).unwrap_or_default()
    }

    pub fn integer(&self, name: &str) -> Option<i64> {
        match self.get(name)? {
            Value::Integer(n) => Some(*n),
            _ => None,
        }
    }

    pub fn boolean(&self, name: &str) -> Option<bool> {
        match self.get(name)? {
            Value::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    pub fn path(&self) -> String {
        table::path(self.family, self.leaf)
    }
}
