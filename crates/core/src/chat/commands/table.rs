//! Every command and option, declared once. Discord registers and dispatches from this table, the console and
//! Slack read their text commands with its grammar, `/help` and the Slack manifest are written from it.

/// What an option holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Integer,
    Boolean,
    /// A member of the server, by platform user id.
    User,
    /// A text channel of the server, by platform channel id.
    Channel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opt {
    pub name: &'static str,
    pub description: &'static str,
    pub kind: Kind,
    pub required: bool,
    /// The only values accepted, when the option is a choice.
    pub choices: &'static [&'static str],
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub max_len: Option<u16>,
    /// Offer IANA zone names as the member types.
    pub zones: bool,
    /// In text commands, words that are not `name:value` fill this option.
    pub positional: bool,
}

impl Opt {
    const fn new(name: &'static str, description: &'static str, kind: Kind) -> Self {
        Self {
            name,
            description,
            kind,
            required: false,
            choices: &[],
            min: None,
            max: None,
            max_len: None,
            zones: false,
            positional: false,
        }
    }

    pub const fn text(name: &'static str, description: &'static str) -> Self {
        Self::new(name, description, Kind::Text)
    }

    pub const fn integer(name: &'static str, description: &'static str) -> Self {
        Self::new(name, description, Kind::Integer)
    }

    pub const fn boolean(name: &'static str, description: &'static str) -> Self {
        Self::new(name, description, Kind::Boolean)
    }

    pub const fn user(name: &'static str, description: &'static str) -> Self {
        Self::new(name, description, Kind::User)
    }

    pub const fn channel(name: &'static str, description: &'static str) -> Self {
        Self::new(name, description, Kind::Channel)
    }

    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub const fn choices(mut self, choices: &'static [&'static str]) -> Self {
        self.choices = choices;
        self
    }

    pub const fn range(mut self, min: i64, max: i64) -> Self {
        self.min = Some(min);
        self.max = Some(max);
        self
    }

    pub const fn max_len(mut self, n: u16) -> Self {
        self.max_len = Some(n);
        self
    }

    pub const fn zones(mut self) -> Self {
        self.zones = true;
        self
    }

    pub const fn positional(mut self) -> Self {
        self.positional = true;
        self
    }
}

/// One command a member types: a family's subcommand (`circle create`), or a family on its own (`help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leaf {
    /// Empty for a family that is a command by itself.
    pub name: &'static str,
    pub description: &'static str,
    pub options: &'static [Opt],
    /// Usable in a DM with the bot (no server needed).
    pub in_dm: bool,
    /// May take longer than a platform's answer window: adapters acknowledge first.
    pub slow: bool,
}

impl Leaf {
    const fn new(name: &'static str, description: &'static str, options: &'static [Opt]) -> Self {
        Self {
            name,
            description,
            options,
            in_dm: false,
            slow: false,
        }
    }

    const fn in_dm(mut self) -> Self {
        self.in_dm = true;
        self
    }

    const fn slow(mut self) -> Self {
        self.slow = true;
        self
    }

    pub fn option(&self, name: &str) -> Option<&'static Opt> {
        self.options.iter().find(|o| o.name == name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Family {
    pub name: &'static str,
    pub description: &'static str,
    /// The heading in `/help`.
    pub title: &'static str,
    /// Whether Slack may register it under its own name: Slack reserves some (`/me`, `/help`), which are then
    /// reached through the umbrella command (`/careercircle me timezone ...`).
    pub own_slack_command: bool,
    pub leaves: &'static [Leaf],
}

impl Family {
    pub fn leaf(&self, name: &str) -> Option<&'static Leaf> {
        self.leaves.iter().find(|l| l.name == name)
    }

    /// A family that is a command by itself (`help`), with no subcommands.
    pub fn is_single(&self) -> bool {
        matches!(self.leaves, [only] if only.name.is_empty())
    }
}

/// The Slack command that reaches every family: `/careercircle circle create ...`.
pub const UMBRELLA: &str = "careercircle";

const CIRCLE: Opt = Opt::text("circle", "Which circle (needed when you are in several)");
const QUARTER: Opt = Opt::text("quarter", "Quarter, e.g. Q1 2027");
const MEMBER: Opt = Opt::user("member", "A member of your circle");
const UNTIL: Opt = Opt::text("until", "A date, YYYY-MM-DD");
const SERVES: Opt = Opt::text(
    "serves",
    "The milestone or skill of your spec it serves: its number or words",
)
.max_len(200);
/// Named for what it places the item in (not "bet", which the text grammar would take "beta:" in a title for).
const BET: Opt = Opt::text("portfolio", "In your portfolio of bets: core or big-swing")
    .choices(crate::domain::bet::CHOICES);
const OFFER: Opt = Opt::text(
    "offer",
    "The offer's number from /opportunity list, or its name",
)
.required()
.max_len(100)
.positional();

pub static COMMANDS: &[Family] = &[
    Family {
        name: "help",
        description: "What career-circle does and how to use it.",
        title: "Help",
        own_slack_command: false,
        leaves: &[Leaf::new("", "What career-circle does and how to use it.", &[]).in_dm()],
    },
    Family {
        name: "circle",
        description: "Career circles: create, join, leave, list, members, settings, pause, organisers, remove.",
        title: "Circles",
        own_slack_command: true,
        leaves: &[
            Leaf::new(
                "create",
                "Start a circle; you become its organiser.",
                &[
                    Opt::text("name", "The circle's name")
                        .required()
                        .max_len(100)
                        .positional(),
                    Opt::channel(
                        "channel",
                        "Home channel for review threads (default: this one)",
                    ),
                    Opt::text("timezone", "The circle's time zone, e.g. Europe/London").zones(),
                ],
            ),
            Leaf::new(
                "join",
                "Join a circle.",
                &[Opt::text("name", "The circle's name")
                    .required()
                    .max_len(100)
                    .positional()],
            ),
            Leaf::new("leave", "Leave a circle.", &[CIRCLE.positional()]),
            Leaf::new("list", "The circles in this server.", &[]),
            Leaf::new(
                "members",
                "Members, their open commitments and last check-in.",
                &[CIRCLE.positional()],
            ),
            Leaf::new(
                "settings",
                "Organisers: home channel, zone, schedules (cron or plain words), review window.",
                &[
                    CIRCLE,
                    Opt::channel("channel", "Home channel for review threads"),
                    Opt::text("timezone", "The circle's time zone").zones(),
                    Opt::text("schedule", "Which schedule to change").choices(&[
                        "monthly_nudge",
                        "nudge_reminder",
                        "checkin_prompt",
                        "deep_dive",
                    ]),
                    Opt::text(
                        "when",
                        "When: 5-field cron (\"0 9 1 * *\") or words (\"monthly on day 1 at 09:00\")",
                    )
                    .max_len(100),
                    Opt::integer("review_days", "Days the review thread stays open").range(1, 90),
                    Opt::text(
                        "anonymous_feedback",
                        "Whether readers may send private feedback without their name",
                    )
                    .choices(&["off", "allowed"]),
                ],
            ),
            Leaf::new(
                "pause",
                "Organisers: pause prompts for a holiday (until a date), or resume.",
                &[
                    Opt::text("until", "Pause until this date (YYYY-MM-DD); empty: until resumed")
                        .positional(),
                    Opt::boolean("resume", "Resume now"),
                    CIRCLE,
                ],
            ),
            Leaf::new(
                "organiser",
                "Organisers: make a member an organiser too, or a member again.",
                &[
                    Opt::text("action", "add or remove")
                        .required()
                        .choices(&["add", "remove"])
                        .positional(),
                    MEMBER.required().positional(),
                    CIRCLE,
                ],
            ),
            Leaf::new(
                "remove",
                "Organisers: take a member out of the circle.",
                &[MEMBER.required().positional(), CIRCLE],
            ),
        ],
    },
    Family {
        name: "spec",
        description: "Your career spec: edit, show, history, diff, phase, visibility, scorecard, established.",
        title: "Career spec",
        own_slack_command: true,
        leaves: &[
            Leaf::new(
                "edit",
                "Edit your spec in a form (vision, milestones, skills, metrics, trade-offs).",
                &[],
            ),
            Leaf::new(
                "show",
                "Show your spec, or a circle-mate's if they share it.",
                &[MEMBER.positional()],
            ),
            Leaf::new("history", "Earlier versions of your spec, with dates.", &[]),
            Leaf::new(
                "diff",
                "What changed between two versions.",
                &[
                    Opt::integer("from", "From version").range(1, 100_000),
                    Opt::integer("to", "To version").range(1, 100_000),
                ],
            ),
            Leaf::new(
                "phase",
                "Record your phase: learning or impact.",
                &[Opt::text("phase", "learning or impact")
                    .required()
                    .choices(&["learning", "impact"])
                    .positional()],
            ),
            Leaf::new(
                "visibility",
                "Who can see your spec: private or circle.",
                &[Opt::text("visibility", "private or circle")
                    .required()
                    .choices(&["private", "circle"])
                    .positional()],
            ),
            Leaf::new(
                "scorecard",
                "Your scorecard over quarters, with targets, milestones and a chart; a circle-mate's if shared.",
                &[MEMBER.positional()],
            )
            .slow(),
            Leaf::new(
                "established",
                "Say you're established in your role: the deep dive then asks about big swings.",
                &[Opt::text("established", "yes or no")
                    .required()
                    .choices(&["yes", "no"])
                    .positional()],
            ),
        ],
    },
    Family {
        name: "metric",
        description: "Scorecard metrics: add, remove, list.",
        title: "Scorecard",
        own_slack_command: true,
        leaves: &[
            Leaf::new(
                "add",
                "Track a metric each quarter: typed, leading or lagging, learning or impact, with a target.",
                &[
                    Opt::text("name", "Its name, e.g. posts")
                        .required()
                        .max_len(40)
                        .positional(),
                    Opt::text("type", "number, count, yes-no or scale (1-5)")
                        .required()
                        .choices(crate::domain::scorecard::TYPE_CHOICES),
                    Opt::text("kind", "leading, lagging, learning or impact")
                        .required()
                        .choices(crate::domain::scorecard::KIND_CHOICES),
                    Opt::text("target", "The quarter's target, e.g. 3 or yes").max_len(20),
                    Opt::boolean("private", "Keep it to yourself even when your spec is shared"),
                ],
            ),
            Leaf::new(
                "remove",
                "Stop tracking a metric (its history stays).",
                &[Opt::text("name", "The metric's name")
                    .required()
                    .max_len(40)
                    .positional()],
            ),
            Leaf::new("list", "Your scorecard's metrics.", &[]),
        ],
    },
    Family {
        name: "commit",
        description: "Commitments: add, list, done, drop, kill a big swing.",
        title: "Commitments",
        own_slack_command: true,
        leaves: &[
            Leaf::new(
                "add",
                "Make a commitment, e.g. \"publish one post\" monthly.",
                &[
                    Opt::text("title", "What you commit to")
                        .required()
                        .max_len(200)
                        .positional(),
                    Opt::text("cadence", "monthly (default), weekly or quarterly").choices(&[
                        "monthly",
                        "weekly",
                        "quarterly",
                    ]),
                    BET,
                ],
            ),
            Leaf::new("list", "Your commitments with streaks and record.", &[]),
            Leaf::new(
                "done",
                "Mark this period of a commitment done.",
                &[
                    Opt::text(
                        "commitment",
                        "Number or title (optional with one commitment)",
                    )
                    .positional(),
                    Opt::text("link", "Link to what you published").max_len(500),
                    Opt::text("note", "A note").max_len(1000),
                ],
            ),
            Leaf::new(
                "drop",
                "Drop a commitment (its record stays).",
                &[Opt::text("commitment", "Number or title").positional()],
            ),
            Leaf::new(
                "kill",
                "Close a big swing that didn't work, with a short post-mortem: it counts as kept.",
                &[
                    Opt::text("commitment", "Number or title").positional(),
                    Opt::text("postmortem", "What you learned, in a few lines")
                        .required()
                        .max_len(1000),
                ],
            ),
        ],
    },
    Family {
        name: "win",
        description: "Wins: log an accomplishment, list a quarter's, link one to your spec.",
        title: "Wins",
        own_slack_command: true,
        leaves: &[
            Leaf::new(
                "add",
                "Log a win: what, and why it mattered, in outcome terms.",
                &[
                    Opt::text("text", "What you did and what it changed")
                        .required()
                        .max_len(1000)
                        .positional(),
                    Opt::text("link", "A link").max_len(500),
                    BET,
                    SERVES,
                ],
            ),
            Leaf::new(
                "list",
                "Your wins in a quarter (default: this one).",
                &[QUARTER.positional()],
            ),
            Leaf::new(
                "link",
                "Link a win to the milestone or skill of your spec it serves.",
                &[
                    Opt::integer("win", "The win's number from /win list")
                        .required()
                        .range(1, 100_000),
                    SERVES.required(),
                ],
            ),
        ],
    },
    Family {
        name: "opportunity",
        description: "The offer ledger: score an offer against your spec, decide, look back, ask your circle.",
        title: "Opportunities",
        own_slack_command: true,
        leaves: &[
            Leaf::new(
                "evaluate",
                "Score an opportunity 1-5 on each criterion; must-haves come from your spec's non-negotiables.",
                &[
                    Opt::text("name", "The opportunity, e.g. Acme staff PM")
                        .required()
                        .max_len(100),
                    Opt::integer("learning", "Learning, 1-5").required().range(1, 5),
                    Opt::integer("impact", "Impact, 1-5").required().range(1, 5),
                    Opt::integer("compensation", "Compensation, 1-5")
                        .required()
                        .range(1, 5),
                    Opt::integer("team", "Team and manager, 1-5").required().range(1, 5),
                    Opt::integer("alignment", "Alignment with your 5-year vision, 1-5")
                        .required()
                        .range(1, 5),
                    Opt::text(
                        "fails",
                        "Numbers of the must-haves it fails (see /spec show), e.g. \"2\"; empty: none",
                    )
                    .max_len(100),
                    BET,
                ],
            ),
            Leaf::new(
                "list",
                "Your offers side by side, with spec versions, decisions and how they turned out.",
                &[],
            ),
            Leaf::new(
                "show",
                "One offer in full: both readings, decision, hindsight, your circle's opinions.",
                &[OFFER],
            ),
            Leaf::new(
                "decide",
                "Mark an offer taken or declined (a taken one is asked about at 6 and 12 months).",
                &[
                    OFFER,
                    Opt::text("decision", "taken or declined")
                        .required()
                        .choices(&["taken", "declined"]),
                ],
            ),
            Leaf::new(
                "lived",
                "How a taken offer turned out, 1-5 on what you scored it for.",
                &[
                    OFFER,
                    Opt::integer("learning", "Learning, 1-5").required().range(1, 5),
                    Opt::integer("impact", "Impact, 1-5").required().range(1, 5),
                    Opt::integer("compensation", "Compensation, 1-5")
                        .required()
                        .range(1, 5),
                    Opt::integer("team", "Team and manager, 1-5").required().range(1, 5),
                    Opt::text("note", "What you know now").max_len(1000),
                ],
            ),
            Leaf::new(
                "share",
                "Ask your circle for a second opinion in its channel (compensation left out unless you say).",
                &[
                    OFFER,
                    Opt::boolean("compensation", "Include your compensation score"),
                    CIRCLE,
                ],
            ),
        ],
    },
    Family {
        name: "checkin",
        description: "Check-ins: answer here, show one, list yours, or check in after a major event.",
        title: "Check-ins",
        own_slack_command: true,
        leaves: &[
            Leaf::new(
                "answer",
                "Answer this quarter's check-in here instead of by DM.",
                &[
                    Opt::text("answers", "On track? What went well, what didn't, what changes?")
                        .required()
                        .max_len(4000)
                        .positional(),
                    CIRCLE,
                ],
            ),
            Leaf::new(
                "show",
                "Show a check-in: yours, or a circle-mate's if they share it.",
                &[MEMBER.positional(), QUARTER],
            ),
            Leaf::new("history", "Your check-ins so far.", &[]),
            Leaf::new(
                "event",
                "A short retrospective after a major event: promotion, job change, setback.",
                &[
                    Opt::text("kind", "What happened: promotion, job-change, setback or other")
                        .required()
                        .choices(crate::domain::narrative::EVENT_CHOICES)
                        .positional(),
                    Opt::text("note", "A line on what happened").max_len(1000),
                ],
            ),
        ],
    },
    Family {
        name: "review",
        description: "Review threads: start one, see who is owed, read and act on feedback, send it in private.",
        title: "Reviews",
        own_slack_command: true,
        leaves: &[
            Leaf::new(
                "start",
                "Organisers: open this quarter's review thread now.",
                &[CIRCLE.positional()],
            ),
            Leaf::new(
                "status",
                "Who still owes feedback in the open review.",
                &[CIRCLE.positional()],
            ),
            Leaf::new(
                "feedback",
                "The feedback you received in a review.",
                &[QUARTER.positional(), CIRCLE],
            ),
            Leaf::new(
                "mark",
                "Act on feedback: adopt it, experiment until a quarter, or set it aside with a reason.",
                &[
                    Opt::integer("feedback", "Its number from /review feedback")
                        .required()
                        .range(1, 100_000),
                    Opt::text("decision", "adopt, experiment or set-aside")
                        .required()
                        .choices(crate::domain::narrative::DECISION_CHOICES),
                    Opt::text("until", "For an experiment: the quarter to follow it up, e.g. Q3 2027")
                        .max_len(20),
                    Opt::text("reason", "Why, in a line").max_len(1000),
                    Opt::text("part", "The part of your spec it's about")
                        .choices(crate::app::feedback::PARTS),
                    Opt::integer("contradicts", "The number of a piece that pulls the other way")
                        .range(1, 100_000),
                ],
            ),
            Leaf::new(
                "feedback-for",
                "Send a circle-mate feedback in private (anonymously if the circle allows).",
                &[
                    MEMBER.required(),
                    Opt::text("text", "Your feedback: a few honest lines")
                        .required()
                        .max_len(4000)
                        .positional(),
                    Opt::boolean("anonymous", "Leave your name out (if the circle allows it)"),
                    CIRCLE,
                ],
            )
            .in_dm(),
        ],
    },
    Family {
        name: "story",
        description: "Your career story from your own wins, as a press release; share it with your circle.",
        title: "Story",
        own_slack_command: true,
        leaves: &[Leaf::new(
            "",
            "Your career story from your own wins, as a press release; share it with your circle.",
            &[
                Opt::text("period", "year (default), quarter, or e.g. Q2 2027 or 2027")
                    .max_len(20)
                    .positional(),
                Opt::boolean("share", "Post it in your circle's open review thread"),
                CIRCLE,
            ],
        )
        .slow()],
    },
    Family {
        name: "me",
        description: "You: time zone, vacation, export and delete your data.",
        title: "You",
        own_slack_command: false,
        leaves: &[
            Leaf::new(
                "timezone",
                "Your time zone, so prompts arrive at 09:00 your time.",
                &[Opt::text("zone", "IANA zone, e.g. America/New_York")
                    .required()
                    .zones()
                    .positional()],
            ),
            Leaf::new(
                "vacation",
                "Pause your prompts until a date (YYYY-MM-DD); empty to come back.",
                &[UNTIL.positional()],
            ),
            Leaf::new(
                "export",
                "Everything stored about you on every server, as JSON and Markdown files.",
                &[],
            )
            .slow()
            .in_dm(),
            Leaf::new(
                "delete",
                "Delete all your data on every server (asks first).",
                &[],
            )
            .in_dm(),
        ],
    },
];

/// The family and leaf of `family leaf`, or of a single-command family.
pub fn find(family: &str, leaf: &str) -> Option<(&'static Family, &'static Leaf)> {
    let f = COMMANDS.iter().find(|f| f.name == family)?;
    let l = f.leaf(leaf)?;
    Some((f, l))
}

/// Every command there is, as (family, leaf).
pub fn all() -> impl Iterator<Item = (&'static Family, &'static Leaf)> {
    COMMANDS
        .iter()
        .flat_map(|f| f.leaves.iter().map(move |l| (f, l)))
}

/// The command as members type it, without the slash: "circle create", "help".
pub fn path(family: &Family, leaf: &Leaf) -> String {
    if leaf.name.is_empty() {
        family.name.to_owned()
    } else {
        format!("{} {}", family.name, leaf.name)
    }
}
