//! A checked command as one typed value, whatever platform it came from. `App::dispatch` takes it to its use case.

use crate::chat::commands::invocation::{Args, Invocation};
use crate::chat::text::Text;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    CircleCreate {
        name: String,
        channel: Option<String>,
        timezone: Option<String>,
    },
    CircleJoin {
        name: String,
    },
    CircleLeave {
        circle: Option<String>,
    },
    CircleList,
    CircleMembers {
        circle: Option<String>,
    },
    CircleSettings {
        circle: Option<String>,
        channel: Option<String>,
        timezone: Option<String>,
        schedule: Option<String>,
        when: Option<String>,
        review_days: Option<i64>,
    },
    CirclePause {
        until: Option<String>,
        resume: bool,
        circle: Option<String>,
    },
    SpecEdit,
    SpecShow {
        member: Option<String>,
    },
    SpecHistory,
    SpecDiff {
        from: Option<i64>,
        to: Option<i64>,
    },
    SpecPhase {
        phase: String,
    },
    SpecVisibility {
        visibility: String,
    },
    CommitAdd {
        title: String,
        cadence: Option<String>,
    },
    CommitList,
    CommitDone {
        commitment: Option<String>,
        link: Option<String>,
        note: Option<String>,
    },
    CommitDrop {
        commitment: Option<String>,
    },
    WinAdd {
        text: String,
        link: Option<String>,
    },
    WinList {
        quarter: Option<String>,
    },
    OpportunityEvaluate {
        name: String,
        /// learning, impact, compensation, team, alignment
        scores: [i64; 5],
        fails: Option<String>,
    },
    OpportunityList,
    CheckinAnswer {
        answers: String,
        circle: Option<String>,
    },
    CheckinShow {
        member: Option<String>,
        quarter: Option<String>,
    },
    CheckinHistory,
    ReviewStart {
        circle: Option<String>,
    },
    ReviewStatus {
        circle: Option<String>,
    },
    ReviewFeedback {
        quarter: Option<String>,
        circle: Option<String>,
    },
    MeTimezone {
        zone: String,
    },
    MeVacation {
        until: Option<String>,
    },
    MeExport,
    MeDelete,
}

impl Command {
    /// Checks an invocation against the table and types it.
    pub fn parse(invocation: Invocation) -> Result<Command, Text> {
        let args = invocation.check()?;
        Ok(Self::from_args(&args))
    }

    fn from_args(a: &Args) -> Command {
        let t = |n: &str| a.text(n);
        match (a.family.name, a.leaf.name) {
            ("circle", "create") => Command::CircleCreate {
                name: a.required("name"),
                channel: t("channel"),
                timezone: t("timezone"),
            },
            ("circle", "join") => Command::CircleJoin {
                name: a.required("name"),
            },
            ("circle", "leave") => Command::CircleLeave {
                circle: t("circle"),
            },
            ("circle", "list") => Command::CircleList,
            ("circle", "members") => Command::CircleMembers {
                circle: t("circle"),
            },
            ("circle", "settings") => Command::CircleSettings {
                circle: t("circle"),
                channel: t("channel"),
                timezone: t("timezone"),
                schedule: t("schedule"),
                when: t("when"),
                review_days: a.integer("review_days"),
            },
            ("circle", "pause") => Command::CirclePause {
                until: t("until"),
                resume: a.boolean("resume").unwrap_or(false),
                circle: t("circle"),
            },
            ("spec", "edit") => Command::SpecEdit,
            ("spec", "show") => Command::SpecShow {
                member: t("member"),
            },
            ("spec", "history") => Command::SpecHistory,
            ("spec", "diff") => Command::SpecDiff {
                from: a.integer("from"),
                to: a.integer("to"),
            },
            ("spec", "phase") => Command::SpecPhase {
                phase: a.required("phase"),
            },
            ("spec", "visibility") => Command::SpecVisibility {
                visibility: a.required("visibility"),
            },
            ("commit", "add") => Command::CommitAdd {
                title: a.required("title"),
                cadence: t("cadence"),
            },
            ("commit", "list") => Command::CommitList,
            ("commit", "done") => Command::CommitDone {
                commitment: t("commitment"),
                link: t("link"),
                note: t("note"),
            },
            ("commit", "drop") => Command::CommitDrop {
                commitment: t("commitment"),
            },
            ("win", "add") => Command::WinAdd {
                text: a.required("text"),
                link: t("link"),
            },
            ("win", "list") => Command::WinList {
                quarter: t("quarter"),
            },
            ("opportunity", "evaluate") => Command::OpportunityEvaluate {
                name: a.required("name"),
                scores: ["learning", "impact", "compensation", "team", "alignment"]
                    .map(|n| a.integer(n).unwrap_or(0)),
                fails: t("fails"),
            },
            ("opportunity", "list") => Command::OpportunityList,
            ("checkin", "answer") => Command::CheckinAnswer {
                answers: a.required("answers"),
                circle: t("circle"),
            },
            ("checkin", "show") => Command::CheckinShow {
                member: t("member"),
                quarter: t("quarter"),
            },
            ("checkin", "history") => Command::CheckinHistory,
            ("review", "start") => Command::ReviewStart {
                circle: t("circle"),
            },
            ("review", "status") => Command::ReviewStatus {
                circle: t("circle"),
            },
            ("review", "feedback") => Command::ReviewFeedback {
                quarter: t("quarter"),
                circle: t("circle"),
            },
            ("me", "timezone") => Command::MeTimezone {
                zone: a.required("zone"),
            },
            ("me", "vacation") => Command::MeVacation { until: t("until") },
            ("me", "export") => Command::MeExport,
            ("me", "delete") => Command::MeDelete,
            // The table and this match are kept in step by the reachability test: every leaf of the table parses
            // to a command whose path is its own.
            _ => Command::Help,
        }
    }

    /// The table's path of this command: "circle create".
    pub fn path(&self) -> &'static str {
        match self {
            Command::Help => "help",
            Command::CircleCreate { .. } => "circle create",
            Command::CircleJoin { .. } => "circle join",
            Command::CircleLeave { .. } => "circle leave",
            Command::CircleList => "circle list",
            Command::CircleMembers { .. } => "circle members",
            Command::CircleSettings { .. } => "circle settings",
            Command::CirclePause { .. } => "circle pause",
            Command::SpecEdit => "spec edit",
            Command::SpecShow { .. } => "spec show",
            Command::SpecHistory => "spec history",
            Command::SpecDiff { .. } => "spec diff",
            Command::SpecPhase { .. } => "spec phase",
            Command::SpecVisibility { .. } => "spec visibility",
            Command::CommitAdd { .. } => "commit add",
            Command::CommitList => "commit list",
            Command::CommitDone { .. } => "commit done",
            Command::CommitDrop { .. } => "commit drop",
            Command::WinAdd { .. } => "win add",
            Command::WinList { .. } => "win list",
            Command::OpportunityEvaluate { .. } => "opportunity evaluate",
            Command::OpportunityList => "opportunity list",
            Command::CheckinAnswer { .. } => "checkin answer",
            Command::CheckinShow { .. } => "checkin show",
            Command::CheckinHistory => "checkin history",
            Command::ReviewStart { .. } => "review start",
            Command::ReviewStatus { .. } => "review status",
            Command::ReviewFeedback { .. } => "review feedback",
            Command::MeTimezone { .. } => "me timezone",
            Command::MeVacation { .. } => "me vacation",
            Command::MeExport => "me export",
            Command::MeDelete => "me delete",
        }
    }
}
