//! Slash commands from the command table: what is registered with Discord, and an interaction read back into the
//! table's terms. No rules live here.

use serenity::all::{
    ChannelType, CommandDataOption, CommandDataOptionValue, CommandInteraction, CommandOptionType,
    CreateCommand, CreateCommandOption, ResolvedOption, ResolvedValue,
};

use career_circle_core::app::{Actor, Platform};
use career_circle_core::chat::commands::{COMMANDS, Family, Invocation, Kind, Leaf, Opt, Value};

pub fn actor_of(
    user: &serenity::all::User,
    guild: Option<serenity::all::GuildId>,
    channel: Option<serenity::all::ChannelId>,
) -> Actor {
    Actor {
        platform: Platform::Discord,
        server: guild.map(|g| g.to_string()),
        user_id: user.id.to_string(),
        display_name: user.display_name().to_owned(),
        channel_id: channel.map(|c| c.to_string()),
        manager: false,
    }
}

fn option(o: &Opt) -> CreateCommandOption {
    let kind = match o.kind {
        Kind::Text => CommandOptionType::String,
        Kind::Integer => CommandOptionType::Integer,
        Kind::Boolean => CommandOptionType::Boolean,
        Kind::User => CommandOptionType::User,
        Kind::Channel => CommandOptionType::Channel,
    };
    let mut out = CreateCommandOption::new(kind, o.name, o.description).required(o.required);
    for c in o.choices {
        out = out.add_string_choice(*c, *c);
    }
    if let Some(min) = o.min.and_then(|m| u64::try_from(m).ok()) {
        out = out.min_int_value(min);
    }
    if let Some(max) = o.max.and_then(|m| u64::try_from(m).ok()) {
        out = out.max_int_value(max);
    }
    if let Some(n) = o.max_len {
        out = out.max_length(n);
    }
    if o.zones {
        out = out.set_autocomplete(true);
    }
    if o.kind == Kind::Channel {
        // A circle's home is a text channel of its server: categories, forums and voice channels cannot hold
        // the review thread.
        out = out.channel_types(vec![ChannelType::Text]);
    }
    out
}

fn leaf(family: &Family, l: &Leaf) -> CreateCommand {
    CreateCommand::new(family.name)
        .description(family.description)
        .dm_permission(family.leaves.iter().any(|l| l.in_dm))
        .set_options(if l.name.is_empty() {
            l.options.iter().map(option).collect()
        } else {
            Vec::new()
        })
}

/// Every family as one slash command, its leaves as subcommands.
pub fn registration() -> Vec<CreateCommand> {
    COMMANDS
        .iter()
        .map(|family| {
            if family.is_single() {
                return leaf(family, &family.leaves[0]);
            }
            let subs = family
                .leaves
                .iter()
                .map(|l| {
                    let mut sub = CreateCommandOption::new(
                        CommandOptionType::SubCommand,
                        l.name,
                        l.description,
                    );
                    for o in l.options {
                        sub = sub.add_sub_option(option(o));
                    }
                    sub
                })
                .collect();
            CreateCommand::new(family.name)
                .description(family.description)
                .dm_permission(family.leaves.iter().any(|l| l.in_dm))
                .set_options(subs)
        })
        .collect()
}

fn values(options: &[ResolvedOption<'_>]) -> Vec<(String, Value)> {
    options
        .iter()
        .filter_map(|o| {
            let v = match &o.value {
                ResolvedValue::String(s) => Value::Text((*s).to_owned()),
                ResolvedValue::Integer(n) => Value::Integer(*n),
                ResolvedValue::Boolean(b) => Value::Boolean(*b),
                ResolvedValue::User(u, _) => Value::User(u.id.to_string()),
                ResolvedValue::Channel(c) => Value::Channel(c.id.to_string()),
                ResolvedValue::Number(n) => Value::Text(n.to_string()),
                ResolvedValue::Autocomplete { value, .. } => Value::Text((*value).to_owned()),
                _ => return None,
            };
            Some((o.name.to_owned(), v))
        })
        .collect()
}

/// The interaction as the table knows it: family, subcommand, options by name.
pub fn invocation(interaction: &CommandInteraction) -> Invocation {
    let options = interaction.data.options();
    let mut inv = Invocation {
        family: interaction.data.name.clone(),
        leaf: String::new(),
        options: Vec::new(),
    };
    match options.first() {
        Some(ResolvedOption {
            name,
            value: ResolvedValue::SubCommand(sub),
            ..
        }) => {
            inv.leaf = (*name).to_owned();
            inv.options = values(sub);
        }
        _ => inv.options = values(&options),
    }
    inv
}

/// The leaf a command interaction is for, if the table has it.
pub fn leaf_of(interaction: &CommandInteraction) -> Option<&'static Leaf> {
    let family = COMMANDS.iter().find(|f| f.name == interaction.data.name)?;
    let sub = interaction
        .data
        .options
        .first()
        .and_then(|o| match &o.value {
            CommandDataOptionValue::SubCommand(_) => Some(o.name.as_str()),
            _ => None,
        });
    family.leaf(sub.unwrap_or(""))
}

/// The text typed so far in an autocompleted option, and whether that option wants zone names.
pub fn autocomplete(interaction: &CommandInteraction) -> Option<(bool, String)> {
    let focused = interaction.data.autocomplete()?;
    let family = COMMANDS.iter().find(|f| f.name == interaction.data.name)?;
    let sub = interaction
        .data
        .options
        .first()
        .filter(|o: &&CommandDataOption| matches!(o.value, CommandDataOptionValue::SubCommand(_)))
        .map(|o| o.name.as_str())
        .unwrap_or("");
    let zones = family
        .leaf(sub)
        .and_then(|l| l.option(focused.name))
        .is_some_and(|o| o.zones);
    Some((zones, focused.value.to_owned()))
}
