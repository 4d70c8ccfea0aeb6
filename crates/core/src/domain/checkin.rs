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
}
