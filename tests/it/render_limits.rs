//! Every message the scheduled renders produce fits what the platform declares it can show, whatever members wrote:
//! long titles, many commitments, 4,000-character check-ins, markup and mention syntax in their words.

use career_circle_core::chat::fit::split;
use career_circle_core::chat::text::render;
use career_circle_core::chat::{Capabilities, ChatMessage, Destination, Text};
use career_circle_core::domain::checkin::Answers;
use career_circle_core::domain::period::Period;
use career_circle_core::domain::spec::Phase;
use career_circle_core::schedule::render::{Rendered, alert, checkin, deep_dive, nudge};
use career_circle_core::schedule::review::words::{self, Person, Tally};
use proptest::prelude::*;

/// Every platform the bot ships with.
fn platforms() -> Vec<&'static Capabilities> {
    vec![&career_circle_discord::CAPABILITIES, &Capabilities::CONSOLE]
}

fn fits(caps: &Capabilities, m: &ChatMessage) -> Result<(), TestCaseError> {
    let text = render(&m.text, caps.markup);
    prop_assert!(
        text.chars().count() <= caps.message_max,
        "{:?}: {} characters",
        caps.platform,
        text.chars().count()
    );
    prop_assert!(m.buttons.len() <= caps.buttons_max);
    for b in &m.buttons {
        prop_assert!(
            b.label.chars().count() <= caps.button_label_max,
            "{}",
            b.label
        );
        prop_assert!(b.custom_id.len() <= caps.custom_id_max, "{}", b.custom_id);
        prop_assert!(caps.button_styles.contains(&b.style));
    }
    Ok(())
}

fn sent(caps: &Capabilities, r: &Rendered) -> Result<usize, TestCaseError> {
    match r {
        Rendered::Send(messages) => {
            for (_, m) in messages {
                fits(caps, m)?;
            }
            Ok(messages.len())
        }
        Rendered::Skip(_) => Ok(0),
    }
}

fn split_fits(caps: &Capabilities, text: &Text) -> Result<(), TestCaseError> {
    for part in split(text, caps) {
        fits(caps, &ChatMessage::text(part))?;
    }
    Ok(())
}

/// Member words: any characters, markup and mention syntax included.
fn words(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::string::string_regex(&format!("[\\PC\\n]{{0,{max}}}")).unwrap(),
        proptest::collection::vec(
            prop_oneof![
                Just("@everyone ".to_owned()),
                Just("<@&123> ".to_owned()),
                Just("**bold** ".to_owned()),
                Just("word ".to_owned()),
                Just("`code` ".to_owned()),
                Just("\n".to_owned()),
            ],
            0..(max / 5).max(1)
        )
        .prop_map(|v| v.concat())
    ]
    .prop_map(move |s| s.chars().take(max).collect())
}

fn dm() -> Destination {
    Destination::Dm {
        user_id: "1234567890".to_owned(),
    }
}

fn month(m: u32) -> Period {
    Period::month(2027, m).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn nudges_fit(
        reminder: bool,
        name in words(80),
        m in 1u32..=12,
        lines in proptest::collection::vec((words(200), 0u32..500, any::<bool>()), 0..20),
    ) {
        let n = nudge::Nudge {
            reminder,
            first_name: name,
            month: month(m),
            lines: lines
                .into_iter()
                .enumerate()
                .map(|(i, (title, streak, done))| nudge::Line {
                    commitment_id: i64::MAX - i as i64,
                    title,
                    streak,
                    done_this_month: done,
                })
                .collect(),
            phase: Some(if reminder { Phase::Impact } else { Phase::Learning }),
        };
        for caps in platforms() {
            let owed = n.lines.iter().filter(|l| !(reminder && l.done_this_month)).count();
            let count = sent(caps, &nudge::word(&n, &dm(), caps))?;
            prop_assert_eq!(count == 0, owed == 0);
            // Every title the member owes is in the messages, whole.
            if let Rendered::Send(messages) = nudge::word(&n, &dm(), caps) {
                let all: String = messages.iter().map(|(_, m)| m.text.to_plain()).collect();
                let joined = all.replace("…\n", "").replace('…', "");
                for l in n.lines.iter().filter(|l| !(reminder && l.done_this_month)) {
                    let first_word = l
                        .title
                        .split_whitespace()
                        .find(|w| !w.contains('…'))
                        .unwrap_or("");
                    prop_assert!(joined.contains(first_word));
                }
            }
        }
    }

    #[test]
    fn prompts_and_deep_dives_fit(
        name in words(80),
        circle in words(100),
        vision in proptest::option::of(words(4000)),
        days in 0i64..5000,
    ) {
        for caps in platforms() {
            let p = checkin::Prompt {
                reminder: false,
                first_name: name.clone(),
                circle_id: i64::MAX,
                circle_name: circle.clone(),
                quarter: Period::quarter(2027, 4).unwrap(),
                vision: vision.clone(),
                answered: false,
                phase: Some((Phase::Learning, chrono::NaiveDate::from_ymd_opt(2026, 10, 1).unwrap())),
                stay_or_switch: days % 2 == 0,
                metrics: vec![circle.clone(); 12],
                milestones: 3,
                feedback: Vec::new(),
            };
            prop_assert!(sent(caps, &checkin::word(&p, &dm(), caps))? >= 1);
            let d = deep_dive::DeepDive {
                first_name: name.clone(),
                year: Period::Year { year: 2028 },
                vision: vision.clone(),
                phase: Some((Phase::Impact, days)),
                phase_since: chrono::NaiveDate::from_ymd_opt(2026, 10, 1),
                quarters_in_phase: None,
                ask_big_swing: days % 3 == 0,
            };
            prop_assert!(sent(caps, &deep_dive::word(&d, &dm(), caps))? >= 1);
            let a = alert::Alert {
                circle_name: circle.clone(),
                member_name: name.clone(),
                reason: vision.clone().unwrap_or_default(),
                organisers: vec!["1".to_owned(), "2".to_owned()],
            };
            prop_assert!(sent(caps, &alert::word(&a, caps))? >= 2);
        }
    }

    #[test]
    fn review_messages_fit(
        names in proptest::collection::vec(words(32), 2..40),
        answers in proptest::collection::vec(words(4000), 1..5),
        wins in proptest::collection::vec(words(1000), 0..30),
        titles in proptest::collection::vec(words(200), 0..20),
    ) {
        let people: Vec<Person> = names
            .iter()
            .enumerate()
            .map(|(i, n)| Person { member_id: i as i64, user_id: format!("{}", 1_000_000 + i), name: n.clone() })
            .collect();
        let n = people.len();
        let quarter = Period::quarter(2027, 2).unwrap();
        let header = words::Header {
            quarter,
            circle_name: names[0].clone(),
            readers: (0..n).map(|i| (people[i].clone(), people[(i + 1) % n].clone())).collect(),
        };
        let post = words::MemberPost {
            name: names[1].clone(),
            readers: names.clone(),
            shared: true,
            checkin: Some(Answers {
                fields: answers.iter().enumerate().map(|(i, a)| (format!("q{i}"), a.clone())).collect(),
            }),
            reviewed: quarter.prev(),
            commitments: titles
                .iter()
                .map(|t| Tally { title: t.clone(), kept: 1, owed: 3, skipped: 0, new_in: None, killed: false })
                .collect(),
            wins: wins.clone(),
            scorecard: Some(format!("Scorecard {}: {}", quarter.label(), names.join(" · "))),
            portfolio: Some("Bets in 2027 so far: 2 core, 1 big swing".to_owned()),
            turning_points: Vec::new(),
        };
        let midway = words::Midway {
            quarter,
            owed: people.iter().map(|p| (p.clone(), names.clone())).collect(),
        };
        let summary = words::Summary {
            quarter,
            members: n,
            checked_in: names.clone(),
            reviews: names.iter().map(|a| (a.clone(), a.clone(), true)).collect(),
            reviewed: quarter.prev(),
            kept: 3,
            due: 9,
        };
        for caps in platforms() {
            split_fits(caps, &words::header(&header))?;
            // A member's post is always one message: replies to it are their feedback.
            fits(caps, &ChatMessage::text(words::member_post(&post, caps)))?;
            split_fits(caps, &words::midway(&midway))?;
            split_fits(caps, &words::summary(&summary))?;
            // Only the readers are tagged; member words never are.
            let tagged = words::header(&header).mentioned_users();
            prop_assert_eq!(tagged.len(), n);
            prop_assert!(words::member_post(&post, caps).mentioned_users().is_empty());
            prop_assert!(words::summary(&summary).mentioned_users().is_empty());
        }
    }
}

#[test]
fn ten_long_titles_arrive_whole_in_messages_that_fit() {
    let n = nudge::Nudge {
        reminder: false,
        first_name: "Ada".to_owned(),
        month: month(3),
        lines: (0..10)
            .map(|i| nudge::Line {
                commitment_id: i,
                title: format!("{i} {}", "long title words ".repeat(11))
                    .chars()
                    .take(200)
                    .collect(),
                streak: 3,
                done_this_month: false,
            })
            .collect(),
        phase: None,
    };
    let caps = &career_circle_discord::CAPABILITIES;
    let Rendered::Send(messages) = nudge::word(&n, &dm(), caps) else {
        panic!("owed");
    };
    assert!(messages.len() >= 2, "2,000+ characters need two messages");
    let all: Vec<String> = messages
        .iter()
        .map(|(_, m)| render(&m.text, caps.markup))
        .collect();
    for text in &all {
        assert!(text.chars().count() <= 2000);
    }
    for l in &n.lines {
        assert!(
            all.iter().any(|t| t.contains(&format!("**{}**", l.title))),
            "{} is whole in one message",
            l.title
        );
    }
    assert!(
        messages.last().unwrap().1.buttons.len() == 4,
        "the buttons come last"
    );
}
