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
        anonymous_feedback: Option<String>,
    },
    CirclePause {
        until: Option<String>,
        resume: bool,
        circle: Option<String>,
    },
    CircleOrganiser {
        action: String,
        member: String,
        circle: Option<String>,
    },
    CircleRemove {
        member: String,
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
    SpecScorecard {
        member: Option<String>,
    },
    SpecEstablished {
        established: String,
    },
    MetricAdd {
        name: String,
        value_type: String,
        kind: String,
        target: Option<String>,
        private: bool,
    },
    MetricRemove {
        name: String,
    },
    MetricList,
    CommitAdd {
        title: String,
        cadence: Option<String>,
        bet: Option<String>,
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
    CommitKill {
        commitment: Option<String>,
        postmortem: String,
    },
    WinAdd {
        text: String,
        link: Option<String>,
        bet: Option<String>,
        serves: Option<String>,
    },
    WinList {
        quarter: Option<String>,
    },
    WinLink {
        win: i64,
        serves: String,
    },
    OpportunityEvaluate {
        name: String,
        /// learning, impact, compensation, team, alignment
        scores: [i64; 5],
        fails: Option<String>,
        bet: Option<String>,
    },
    OpportunityList,
    OpportunityShow {
        offer: String,
    },
    OpportunityDecide {
        offer: String,
        decision: String,
    },
    OpportunityLived {
        offer: String,
        /// learning, impact, compensation, team
        scores: [i64; 4],
        note: Option<String>,
    },
    OpportunityShare {
        offer: String,
        compensation: bool,
        circle: Option<String>,
    },
    CheckinAnswer {
        answers: String,
        circle: Option<String>,
    },
    CheckinShow {
        member: Option<String>,
        quarter: Option<String>,
    },
    CheckinHistory,
    CheckinEvent {
        kind: String,
        note: Option<String>,
    },
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
    ReviewMark {
        feedback: i64,
        decision: String,
        until: Option<String>,
        reason: Option<String>,
        part: Option<String>,
        contradicts: Option<i64>,
    },
    ReviewFeedbackFor {
        member: String,
        text: String,
        anonymous: bool,
        circle: Option<String>,
    },
    Story {
        period: Option<String>,
        share: bool,
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
                anonymous_feedback: t("anonymous_feedback"),
            },
            ("circle", "pause") => Command::CirclePause {
                until: t("until"),
                resume: a.boolean("resume").unwrap_or(false),
                circle: t("circle"),
            },
            ("circle", "organiser") => Command::CircleOrganiser {
                action: a.required("action"),
                member: a.required("member"),
                circle: t("circle"),
            },
            ("circle", "remove") => Command::CircleRemove {
                member: a.required("member"),
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
            ("spec", "scorecard") => Command::SpecScorecard {
                member: t("member"),
            },
            ("spec", "established") => Command::SpecEstablished {
                established: a.required("established"),
            },
            ("metric", "add") => Command::MetricAdd {
                name: a.required("name"),
                value_type: a.required("type"),
                kind: a.required("kind"),
                target: t("target"),
                private: a.boolean("private").unwrap_or(false),
            },
            ("metric", "remove") => Command::MetricRemove {
                name: a.required("name"),
            },
            ("metric", "list") => Command::MetricList,
            ("commit", "add") => Command::CommitAdd {
                title: a.required("title"),
                cadence: t("cadence"),
                bet: t("portfolio"),
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
            ("commit", "kill") => Command::CommitKill {
                commitment: t("commitment"),
                postmortem: a.required("postmortem"),
            },
            ("win", "add") => Command::WinAdd {
                text: a.required("text"),
                link: t("link"),
                bet: t("portfolio"),
                serves: t("serves"),
            },
            ("win", "link") => Command::WinLink {
                win: a.integer("win").unwrap_or(0),
                serves: a.required("serves"),
            },
            ("win", "list") => Command::WinList {
                quarter: t("quarter"),
            },
            ("opportunity", "evaluate") => Command::OpportunityEvaluate {
                name: a.required("name"),
                scores: ["learning", "impact", "compensation", "team", "alignment"]
                    .map(|n| a.integer(n).unwrap_or(0)),
                fails: t("fails"),
                bet: t("portfolio"),
            },
            ("opportunity", "list") => Command::OpportunityList,
            ("opportunity", "show") => Command::OpportunityShow {
                offer: a.required("offer"),
            },
            ("opportunity", "decide") => Command::OpportunityDecide {
                offer: a.required("offer"),
                decision: a.required("decision"),
            },
            ("opportunity", "lived") => Command::OpportunityLived {
                offer: a.required("offer"),
                scores: ["learning", "impact", "compensation", "team"]
                    .map(|n| a.integer(n).unwrap_or(0)),
                note: t("note"),
            },
            ("opportunity", "share") => Command::OpportunityShare {
                offer: a.required("offer"),
                compensation: a.boolean("compensation").unwrap_or(false),
                circle: t("circle"),
            },
            ("checkin", "answer") => Command::CheckinAnswer {
                answers: a.required("answers"),
                circle: t("circle"),
            },
            ("checkin", "show") => Command::CheckinShow {
                member: t("member"),
                quarter: t("quarter"),
            },
            ("checkin", "history") => Command::CheckinHistory,
            ("checkin", "event") => Command::CheckinEvent {
                kind: a.required("kind"),
                note: t("note"),
            },
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
            ("review", "mark") => Command::ReviewMark {
                feedback: a.integer("feedback").unwrap_or(0),
                decision: a.required("decision"),
                until: t("until"),
                reason: t("reason"),
                part: t("part"),
                contradicts: a.integer("contradicts"),
            },
            ("review", "feedback-for") => Command::ReviewFeedbackFor {
                member: a.required("member"),
                text: a.required("text"),
                anonymous: a.boolean("anonymous").unwrap_or(false),
                circle: t("circle"),
            },
            ("story", "") => Command::Story {
                period: t("period"),
                share: a.boolean("share").unwrap_or(false),
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
            Command::CircleOrganiser { .. } => "circle organiser",
            Command::CircleRemove { .. } => "circle remove",
            Command::SpecEdit => "spec edit",
            Command::SpecShow { .. } => "spec show",
            Command::SpecHistory => "spec history",
            Command::SpecDiff { .. } => "spec diff",
            Command::SpecPhase { .. } => "spec phase",
            Command::SpecVisibility { .. } => "spec visibility",
            Command::SpecScorecard { .. } => "spec scorecard",
            Command::SpecEstablished { .. } => "spec established",
            Command::MetricAdd { .. } => "metric add",
            Command::MetricRemove { .. } => "metric remove",
            Command::MetricList => "metric list",
            Command::CommitAdd { .. } => "commit add",
            Command::CommitList => "commit list",
            Command::CommitDone { .. } => "commit done",
            Command::CommitDrop { .. } => "commit drop",
            Command::CommitKill { .. } => "commit kill",
            Command::WinAdd { .. } => "win add",
            Command::WinList { .. } => "win list",
            Command::WinLink { .. } => "win link",
            Command::OpportunityEvaluate { .. } => "opportunity evaluate",
            Command::OpportunityList => "opportunity list",
            Command::OpportunityShow { .. } => "opportunity show",
            Command::OpportunityDecide { .. } => "opportunity decide",
            Command::OpportunityLived { .. } => "opportunity lived",
            Command::OpportunityShare { .. } => "opportunity share",
            Command::CheckinAnswer { .. } => "checkin answer",
            Command::CheckinShow { .. } => "checkin show",
            Command::CheckinHistory => "checkin history",
            Command::CheckinEvent { .. } => "checkin event",
            Command::ReviewStart { .. } => "review start",
            Command::ReviewStatus { .. } => "review status",
            Command::ReviewFeedback { .. } => "review feedback",
            Command::ReviewMark { .. } => "review mark",
            Command::ReviewFeedbackFor { .. } => "review feedback-for",
            Command::Story { .. } => "story",
            Command::MeTimezone { .. } => "me timezone",
            Command::MeVacation { .. } => "me vacation",
            Command::MeExport => "me export",
            Command::MeDelete => "me delete",
        }
    }
}
