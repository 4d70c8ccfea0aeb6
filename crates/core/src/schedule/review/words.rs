//! What the review thread says: the header with this quarter's readers, each member's post, the midway nudge and the
//! summary. Pure: `load` gathers the facts, these word them for the platform.

use crate::chat::Capabilities;
use crate::chat::fit::{clip, shorten};
use crate::chat::text::{Text, bold, cmd, italic, mention};
use crate::domain::checkin::Answers;
use crate::domain::period::Period;
use crate::spans;

/// A member as the thread names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub member_id: i64,
    pub user_id: String,
    pub name: String,
}

/// The quarter under review's header: who reads whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub quarter: Period,
    pub circle_name: String,
    /// (reader, the member they read)
    pub readers: Vec<(Person, Person)>,
}

/// Tags exactly the readers, on purpose: this is where they learn whom they read.
pub fn header(h: &Header) -> Text {
    header_for(h, false)
}

/// The header where replies cannot point at one post (`flat_threads`, Slack): feedback names the member.
pub fn header_for(h: &Header, flat_threads: bool) -> Text {
    let mut text = Text::new();
    let how = if flat_threads {
        " Each member's check-in follows. Reply in this thread and name the member (@them) to give that person \
         feedback: real feedback, not formal feedback."
    } else {
        " Each member's check-in follows. Reply to a post to give that person feedback: real feedback, not formal \
         feedback."
    };
    text.line(spans![
        bold(format!(
            "{} review of {}.",
            h.quarter.label(),
            h.circle_name
        )),
        how
    ]);
    if !h.readers.is_empty() {
        text.line(spans!["This quarter's readers:"]);
        for (reader, reviewee) in &h.readers {
            text.item(spans![
                mention(&reader.user_id),
                format!(" reads {}", reviewee.name)
            ]);
        }
    }
    text
}

/// One member's post: their check-in if they share it, their commitment record and wins for the quarter reviewed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberPost {
    pub name: String,
    pub readers: Vec<String>,
    pub shared: bool,
    pub checkin: Option<Answers>,
    /// The quarter that ended, which the record and wins cover.
    pub reviewed: Period,
    pub commitments: Vec<Tally>,
    pub wins: Vec<String>,
    /// The quarter's scorecard line (private metrics never in it).
    pub scorecard: Option<String>,
    /// The year's balance of bets: "Bets in 2027 so far: 2 core, 1 big swing".
    pub portfolio: Option<String>,
    /// Check-ins after major events and landing-plan outcomes since the quarter under review began.
    pub turning_points: Vec<String>,
}

const CHECKIN_CHARS: usize = 1200;
const WIN_CHARS: usize = 200;
const WINS_SHOWN: usize = 8;

/// Always one message (replies to it are feedback for this member): shortened, with a pointer, if it cannot fit.
pub fn member_post(p: &MemberPost, caps: &Capabilities) -> Text {
    let mut text = Text::new();
    let mut first = spans![bold(&p.name)];
    if !p.readers.is_empty() {
        first.push(format!(" (read by {})", p.readers.join(", ")).into());
    }
    text.line(first);
    if !p.shared {
        text.line(spans![
            "Keeps their spec and check-in private this quarter."
        ]);
        return text;
    }
    match &p.checkin {
        Some(answers) => {
            let mut words = crate::schedule::render::answers(answers);
            let plain = words.to_plain();
            if plain.chars().count() > CHECKIN_CHARS {
                words = Text::plain(clip(&plain, CHECKIN_CHARS));
            }
            text.append(words);
        }
        None => {
            text.line(spans!["No check-in this quarter."]);
        }
    }
    if let Some(line) = &p.scorecard {
        text.line(spans![line]);
    }
    if let Some(line) = &p.portfolio {
        text.line(spans![line]);
    }
    let lines: Vec<String> = p.commitments.iter().map(Tally::line).collect();
    if !lines.is_empty() {
        text.line(spans![format!(
            "Commitments in {}: {}",
            p.reviewed.label(),
            lines.join("; ")
        )]);
    }
    if !p.wins.is_empty() {
        text.line(spans![format!("Wins in {}:", p.reviewed.label())]);
        for w in p.wins.iter().take(WINS_SHOWN) {
            text.item(spans![clip(w, WIN_CHARS)]);
        }
    }
    if !p.turning_points.is_empty() {
        text.line(spans!["Since then:"]);
        for t in p.turning_points.iter().take(WINS_SHOWN) {
            text.item(spans![clip(t, WIN_CHARS)]);
        }
    }
    shorten(text, caps, Some("checkin show"))
}

/// One commitment's quarter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    pub title: String,
    pub kept: u32,
    /// Kept or missed periods: what was owed.
    pub owed: u32,
    pub skipped: u32,
    /// The month it began in, when that is inside the quarter.
    pub new_in: Option<Period>,
    /// A big swing closed with a post-mortem: its periods count as kept.
    pub killed: bool,
}

impl Tally {
    fn line(&self) -> String {
        let mut out = format!("{}: kept {} of {}", self.title, self.kept, self.owed);
        if self.skipped > 0 {
            out.push_str(&format!(", skipped {}", self.skipped));
        }
        if let Some(m) = self.new_in {
            out.push_str(&format!(", new in {}", m.label()));
        }
        if self.killed {
            out.push_str(" (a big swing, killed with a post-mortem: counts as kept)");
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Midway {
    pub quarter: Period,
    /// Readers who still owe feedback, and the names they owe it to.
    pub owed: Vec<(Person, Vec<String>)>,
}

/// Tags only the readers who still owe feedback.
pub fn midway(m: &Midway) -> Text {
    let mut text = Text::new();
    text.line(spans![format!(
        "Halfway through the {} review. Still to read and answer:",
        m.quarter.label()
    )]);
    for (reader, names) in &m.owed {
        text.item(spans![
            mention(&reader.user_id),
            format!(": {}", names.join(", "))
        ]);
    }
    text.line(spans![
        "A few honest lines in reply to their post is plenty."
    ]);
    text
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub quarter: Period,
    pub members: usize,
    pub checked_in: Vec<String>,
    /// (reader, reviewee, written)
    pub reviews: Vec<(String, String, bool)>,
    pub reviewed: Period,
    pub kept: u32,
    pub due: u32,
}

/// Names and counts only: participation, never private content.
pub fn summary(s: &Summary) -> Text {
    let mut text = Text::new();
    text.line(spans![bold(format!(
        "{} review: summary",
        s.quarter.label()
    ))]);
    text.line(spans![format!(
        "Checked in: {} of {}{}",
        s.checked_in.len(),
        s.members,
        if s.checked_in.is_empty() {
            String::new()
        } else {
            format!(" ({})", s.checked_in.join(", "))
        }
    )]);
    if !s.reviews.is_empty() {
        text.line(spans!["Reviews:"]);
        for (reader, reviewee, written) in &s.reviews {
            text.item(spans![format!(
                "{reader} → {reviewee}: {}",
                if *written { "written" } else { "not this time" }
            )]);
        }
    }
    text.line(spans![format!(
        "Monthly commitments kept across the circle in {}: {} of {}.",
        s.reviewed.label(),
        s.kept,
        s.due
    )]);
    text.line(spans!["Thanks, all. See you next quarter."]);
    text
}

/// What a member's post says once they deleted their data.
pub fn removed_post() -> Text {
    let mut text = Text::new();
    text.line(spans![italic(
        "This post was removed at the member's request."
    )]);
    text
}

/// Added to a header or summary written again without a member who deleted their data.
pub fn removal_note() -> Text {
    let mut text = Text::new();
    text.line(spans![italic(
        "A member's details were removed from this post at their request."
    )]);
    text
}

/// Said in the thread when it closes, on platforms that cannot close a thread to replies.
pub fn closed_note(quarter: Period) -> Text {
    let mut text = Text::new();
    text.line(spans![
        bold(format!("The {} review is closed.", quarter.label())),
        " Replies from here on are not recorded; ",
        cmd("review feedback"),
        " shows what you received."
    ]);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: i64, name: &str) -> Person {
        Person {
            member_id: id,
            user_id: format!("u{id}"),
            name: name.to_owned(),
        }
    }

    #[test]
    fn the_header_tags_readers_and_nobody_else() {
        let h = Header {
            quarter: Period::quarter(2027, 2).unwrap_or(Period::Year { year: 2027 }),
            circle_name: "PM Circle".to_owned(),
            readers: vec![
                (person(1, "Ada"), person(2, "Grace")),
                (person(2, "Grace"), person(1, "Ada")),
            ],
        };
        let t = header(&h);
        assert_eq!(t.mentioned_users(), vec!["u1".to_owned(), "u2".to_owned()]);
        assert!(t.to_plain().contains("• @u1 reads Grace"));
    }

    #[test]
    fn a_long_post_stays_one_message() {
        let caps = Capabilities {
            message_max: 300,
            ..Capabilities::CONSOLE
        };
        let p = MemberPost {
            name: "Ada".to_owned(),
            readers: vec!["Grace".to_owned()],
            shared: true,
            checkin: Some(Answers {
                fields: vec![("text".to_owned(), "word ".repeat(400))],
            }),
            reviewed: Period::quarter(2027, 1).unwrap_or(Period::Year { year: 2027 }),
            commitments: vec![Tally {
                title: "publish one post".to_owned(),
                kept: 2,
                owed: 3,
                skipped: 0,
                new_in: None,
                killed: false,
            }],
            wins: vec!["shipped".to_owned(); 20],
            scorecard: None,
            portfolio: None,
            turning_points: Vec::new(),
        };
        let t = member_post(&p, &caps);
        assert!(t.to_plain().chars().count() <= 300, "{}", t.to_plain());
        assert!(t.to_plain().contains("`/checkin show` shows them"));
        assert!(t.mentioned_users().is_empty());
    }
}
