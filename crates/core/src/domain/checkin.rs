//! The quarterly check-in: its questions and the answers a member gives.

use serde::{Deserialize, Serialize};

use crate::domain::spec::Phase;

/// The scorecard, in the order it is asked. Keys are stable: they are stored in `checkins.answers`.
pub const QUESTIONS: [(&str, &str); 5] = [
    ("on_track", "Am I on track against my spec?"),
    ("went_well", "What went well?"),
    ("went_badly", "What didn't, and what will I do differently?"),
    ("indicators", "Leading and lagging indicators this quarter?"),
    ("spec_changes", "Anything to change in the spec?"),
];

/// The questions a phase asks instead of the generic ones: (key, question, a short label for forms). Keys are
/// stable: they are stored in `checkins.answers` next to the generic ones.
pub const PHASE_QUESTIONS: [(&str, &str, &str); 6] = [
    (
        "learned",
        "What did I learn that I could not do a quarter ago?",
        "What did I learn that I couldn't do before?",
    ),
    (
        "stretched",
        "What stretched me, and what didn't go well?",
        "What stretched me, and what didn't go well?",
    ),
    (
        "learned_from",
        "Who did I learn from?",
        "Who did I learn from?",
    ),
    (
        "changed",
        "What changed because of my work, in outcome terms?",
        "What changed because of my work (outcomes)?",
    ),
    (
        "not_doing",
        "What did I decide not to do?",
        "What did I decide not to do?",
    ),
    (
        "stay_or_switch",
        "Stay or switch? Anything else to change in the spec?",
        "Stay or switch phase? Other spec changes?",
    ),
];

/// The question behind a stored key, generic or a phase's.
pub fn question_of(key: &str) -> Option<&'static str> {
    QUESTIONS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, q)| *q)
        .or_else(|| {
            PHASE_QUESTIONS
                .iter()
                .find(|(k, _, _)| *k == key)
                .map(|(_, q, _)| *q)
        })
}

/// A form's label for a key: the question, or its short form where the question is long.
pub fn label_of(key: &str) -> Option<&'static str> {
    PHASE_QUESTIONS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, _, l)| *l)
        .or_else(|| question_of(key))
}

/// The five questions of a check-in, as (key, question). The phase chooses the middle three: a learning phase asks
/// what was learned, what stretched, and from whom; an impact phase what changed because of the member's work, what
/// they decided not to do, and what didn't go well. Once four quarters have passed in one phase, the last question
/// asks whether to stay or switch.
pub fn questions(phase: Option<Phase>, stay_or_switch: bool) -> Vec<(&'static str, &'static str)> {
    let keys: [&str; 5] = match phase {
        None => [
            "on_track",
            "went_well",
            "went_badly",
            "indicators",
            "spec_changes",
        ],
        Some(Phase::Learning) => [
            "on_track",
            "learned",
            "stretched",
            "learned_from",
            "spec_changes",
        ],
        Some(Phase::Impact) => [
            "on_track",
            "changed",
            "not_doing",
            "went_badly",
            "spec_changes",
        ],
    };
    keys.into_iter()
        .map(|k| {
            if k == "spec_changes" && stay_or_switch {
                "stay_or_switch"
            } else {
                k
            }
        })
        .filter_map(|k| question_of(k).map(|q| (k, q)))
        .collect()
}

/// Discord's limit for one modal text input, and a sane bound for a DM answer.
pub const ANSWER_MAX: usize = 4000;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answers {
    /// Answers by question key; a free-form reply lands under "text".
    pub fields: Vec<(String, String)>,
}

impl Answers {
    /// A free-text reply (a DM), kept whole.
    pub fn free_text(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("That reply was empty, so nothing was stored.".to_owned());
        }
        let chars = text.chars().count();
        if chars > ANSWER_MAX * QUESTIONS.len() {
            return Err(format!(
                "That reply is {chars} characters; please keep it under {}.",
                ANSWER_MAX * 5
            ));
        }
        Ok(Self {
            fields: vec![("text".to_owned(), text.to_owned())],
        })
    }

    /// Answers to the named questions (the form); unknown keys are refused, empty ones dropped.
    pub fn from_fields(fields: &[(String, String)]) -> Result<Self, String> {
        let mut kept = Vec::new();
        for (key, value) in fields {
            if question_of(key).is_none() {
                return Err(format!("\"{key}\" is not one of the check-in questions."));
            }
            let value = value.trim();
            if value.chars().count() > ANSWER_MAX {
                return Err(format!(
                    "An answer is over {ANSWER_MAX} characters; please shorten it."
                ));
            }
            if !value.is_empty() {
                kept.push((key.clone(), value.to_owned()));
            }
        }
        if kept.is_empty() {
            return Err("Every answer was empty, so nothing was stored.".to_owned());
        }
        Ok(Self { fields: kept })
    }

    /// These answers with `more` added after them: a question answered in both keeps both texts, one after the
    /// other; anything new is added. Refused when the result would be longer than a check-in may be.
    pub fn appended(&self, more: &Answers) -> Result<Self, String> {
        let mut fields = self.fields.clone();
        for (key, value) in &more.fields {
            match fields.iter_mut().find(|(k, _)| k == key) {
                Some((_, existing)) => {
                    existing.push_str("\n\n");
                    existing.push_str(value);
                }
                None => fields.push((key.clone(), value.clone())),
            }
        }
        let total: usize = fields.iter().map(|(_, v)| v.chars().count()).sum();
        let max = ANSWER_MAX * QUESTIONS.len();
        if total > max {
            return Err(format!(
                "Together that would be {total} characters; a check-in holds up to {max}. Replace it instead, or \
                 shorten what you add."
            ));
        }
        Ok(Self { fields })
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.fields
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect(),
        )
    }

    pub fn from_json(value: &serde_json::Value) -> Self {
        let fields = value
            .as_object()
            .map(|map| {
                map.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        Self { fields }
    }

    /// Each answer under its question, when it answers one (a free-form reply has none).
    pub fn by_question(&self) -> Vec<(Option<&'static str>, &str)> {
        self.fields
            .iter()
            .map(|(key, value)| (question_of(key), value.as_str()))
            .collect()
    }

    /// The answers as Markdown, question by question: for the export file, not for chat.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        for (key, value) in &self.fields {
            match question_of(key) {
                Some(q) => out.push_str(&format!("**{q}**\n{value}\n")),
                None => out.push_str(&format!("{value}\n")),
            }
        }
        out.trim_end().to_owned()
    }
}

/// Words that only acknowledge ("thanks!", "ok", "👍"): never an answer, so never stored over one.
const ACKNOWLEDGEMENTS: &[&str] = &[
    "thanks",
    "thank you",
    "thank u",
    "thanks a lot",
    "many thanks",
    "thx",
    "ty",
    "tysm",
    "cheers",
    "ok",
    "okay",
    "k",
    "kk",
    "ok thanks",
    "ok thank you",
    "okay thanks",
    "got it",
    "cool",
    "great",
    "nice",
    "awesome",
    "perfect",
    "sounds good",
    "will do",
    "sure",
    "yes",
    "yep",
    "no worries",
    "noted",
    "merci",
    "danke",
    "gracias",
];

/// A short message that only acknowledges: a known phrase, or nothing but emoji and punctuation.
pub fn is_acknowledgement(text: &str) -> bool {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > 40 {
        return false;
    }
    let words: String = text
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c.is_whitespace() {
                c.to_lowercase().next().unwrap_or(c)
            } else {
                ' '
            }
        })
        .collect();
    let words = words.split_whitespace().collect::<Vec<_>>().join(" ");
    if words.is_empty() {
        // Emoji, "!!", "+1" without the digit: only symbols.
        return true;
    }
    ACKNOWLEDGEMENTS.contains(&words.as_str()) || words == "1"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_validate_and_round_trip() {
        assert!(Answers::free_text("   ").is_err());
        let a = Answers::from_fields(&[
            ("went_well".into(), " shipped ".into()),
            ("on_track".into(), "".into()),
        ])
        .unwrap();
        assert_eq!(
            a.fields,
            vec![("went_well".to_owned(), "shipped".to_owned())]
        );
        assert_eq!(Answers::from_json(&a.to_json()), a);
        assert!(Answers::from_fields(&[("bogus".into(), "x".into())]).is_err());
        assert!(a.to_markdown().contains("What went well?"));
    }

    #[test]
    fn the_phase_chooses_the_questions() {
        let keys = |p, s| {
            questions(p, s)
                .into_iter()
                .map(|(k, _)| k)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            keys(None, false),
            QUESTIONS.iter().map(|(k, _)| *k).collect::<Vec<_>>()
        );
        assert_eq!(
            keys(Some(Phase::Learning), false),
            [
                "on_track",
                "learned",
                "stretched",
                "learned_from",
                "spec_changes"
            ]
        );
        assert_eq!(
            keys(Some(Phase::Impact), true),
            [
                "on_track",
                "changed",
                "not_doing",
                "went_badly",
                "stay_or_switch"
            ]
        );
        assert!(
            PHASE_QUESTIONS
                .iter()
                .all(|(_, _, l)| l.chars().count() <= 45)
        );
        let a = Answers::from_fields(&[("learned".into(), "pricing".into())]).unwrap();
        assert_eq!(
            a.by_question(),
            vec![(
                Some("What did I learn that I could not do a quarter ago?"),
                "pricing"
            )]
        );
    }

    #[test]
    fn appending_keeps_both_and_respects_the_size() {
        let first = Answers::free_text("On track.").unwrap();
        let more = Answers::free_text("Also: hired a PM.").unwrap();
        let both = first.appended(&more).unwrap();
        assert_eq!(both.fields[0].1, "On track.\n\nAlso: hired a PM.");
        let form = Answers::from_fields(&[("went_well".into(), "shipped".into())]).unwrap();
        assert_eq!(form.appended(&more).unwrap().fields.len(), 2);
        let big = Answers::free_text(&"x".repeat(ANSWER_MAX * 5)).unwrap();
        assert!(big.appended(&more).is_err());
    }

    #[test]
    fn acknowledgements_are_told_from_answers() {
        for ack in [
            "thanks!",
            "Thanks",
            "thank you :)",
            "ok",
            "OK.",
            "👍",
            "🙏🙏",
            "+1",
            "Got it!",
            "cheers",
        ] {
            assert!(is_acknowledgement(ack), "{ack}");
        }
        for answer in [
            "On track, mostly.",
            "ok so here is my check-in: shipped pricing",
            "thanks to the team we shipped",
            "",
            "no",
        ] {
            assert!(!is_acknowledgement(answer), "{answer}");
        }
    }
}
