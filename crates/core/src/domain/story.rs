//! A career story in the shape of a press release, worded from a member's own records only: the headline
//! outcome, wins under the milestones and skills they serve, metrics that moved, writing published, and what is next.

use crate::domain::narrative::{Serves, we_without_i};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoryWin {
    pub date: String,
    pub text: String,
    pub link: Option<String>,
    pub serves: Option<(Serves, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Facts {
    pub name: String,
    /// "2027" or "Q2 2027".
    pub period: String,
    /// The member's own words for where they're going.
    pub vision: Option<String>,
    pub wins: Vec<StoryWin>,
    /// "posts: 1 → 3 (target 3)".
    pub metrics: Vec<String>,
    /// (what, link) of the writing commitment's published pieces.
    pub writing: Vec<(String, String)>,
    /// "Job change (2027-03-01): what happened".
    pub events: Vec<String>,
    /// "Day 30, listen and learn: ...".
    pub landing: Vec<String>,
    /// The roadmap's next milestones.
    pub next: Vec<String>,
    /// Skills of the spec with no win linked to them this year.
    pub skills_without_evidence: Vec<String>,
}

/// What the story flags for the member's attention, counted for the short summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Story {
    pub markdown: String,
    pub headline: String,
    pub we_only: usize,
    pub unlinked: usize,
}

fn md_escape_line(s: &str) -> String {
    // One line per item: a win written over several lines stays one bullet.
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn bullet(w: &StoryWin) -> String {
    let mut line = format!("- {} ({})", md_escape_line(&w.text), w.date);
    if let Some(l) = &w.link {
        line.push_str(&format!(" <{l}>"));
    }
    if we_without_i(&w.text) {
        line.push_str(" — *told as \"we\": what was your part? Say it with \"I\".*");
    }
    line
}

pub fn compose(f: &Facts) -> Story {
    let linked: Vec<&StoryWin> = f.wins.iter().filter(|w| w.serves.is_some()).collect();
    let headline = match (linked.first().copied(), f.wins.first()) {
        (Some(w), _) | (None, Some(w)) => format!(
            "{}'s {}: {}",
            f.name,
            f.period,
            md_escape_line(&w.text)
                .trim_end_matches('.')
                .chars()
                .take(140)
                .collect::<String>()
        ),
        (None, None) => format!("{}'s {}: the story starts here", f.name, f.period),
    };
    let mut md = format!("# {headline}\n\n");
    let served: Vec<String> = {
        let mut s: Vec<String> = linked
            .iter()
            .filter_map(|w| w.serves.as_ref().map(|(_, t)| t.clone()))
            .collect();
        s.dedup();
        s
    };
    md.push_str(&format!(
        "**{}, {}** — {} logged {} win{} this period{}.",
        f.name,
        f.period,
        f.name,
        f.wins.len(),
        if f.wins.len() == 1 { "" } else { "s" },
        if served.is_empty() {
            String::new()
        } else {
            format!(", serving {}", served.join("; "))
        }
    ));
    if let Some(v) = &f.vision {
        md.push_str(&format!(
            " All of it points at one vision: \"{}\".",
            md_escape_line(v)
        ));
    }
    md.push_str("\n\n## Wins, by what they serve\n\n");
    let mut groups: Vec<(Serves, String)> = Vec::new();
    for w in &linked {
        if let Some(s) = &w.serves
            && !groups.contains(s)
        {
            groups.push(s.clone());
        }
    }
    groups.sort_by_key(|(k, _)| *k);
    for (kind, what) in &groups {
        let word = match kind {
            Serves::Milestone => "Milestone",
            Serves::Skill => "Skill",
        };
        md.push_str(&format!("### {word}: {}\n\n", md_escape_line(what)));
        for w in linked
            .iter()
            .filter(|w| w.serves.as_ref() == Some(&(*kind, what.clone())))
        {
            md.push_str(&bullet(w));
            md.push('\n');
        }
        md.push('\n');
    }
    let unlinked: Vec<&StoryWin> = f.wins.iter().filter(|w| w.serves.is_none()).collect();
    if !unlinked.is_empty() {
        md.push_str("### Not linked to the spec yet\n\n");
        for w in &unlinked {
            md.push_str(&bullet(w));
            md.push('\n');
        }
        md.push_str("\n`/win link` ties a win to the milestone or skill it serves.\n\n");
    }
    if f.wins.is_empty() {
        md.push_str("No wins logged in this period yet. `/win add` when something lands.\n\n");
    }
    if !f.metrics.is_empty() {
        md.push_str("## Metrics that moved\n\n");
        for m in &f.metrics {
            md.push_str(&format!("- {m}\n"));
        }
        md.push('\n');
    }
    if !f.writing.is_empty() {
        md.push_str("## Writing published\n\n");
        for (what, link) in &f.writing {
            md.push_str(&format!("- {}: <{link}>\n", md_escape_line(what)));
        }
        md.push('\n');
    }
    if !f.events.is_empty() || !f.landing.is_empty() {
        md.push_str("## Turning points\n\n");
        for e in f.events.iter().chain(&f.landing) {
            md.push_str(&format!("- {}\n", md_escape_line(e)));
        }
        md.push('\n');
    }
    md.push_str("## What's next\n\n");
    if f.next.is_empty() {
        md.push_str("- Your spec has no milestones yet: `/spec edit` sets the roadmap.\n");
    }
    for n in &f.next {
        md.push_str(&format!("- {}\n", md_escape_line(n)));
    }
    let we_only = f.wins.iter().filter(|w| we_without_i(&w.text)).count();
    if we_only > 0 || !f.skills_without_evidence.is_empty() {
        md.push_str("\n## Worth a look before you share it\n\n");
        if we_only > 0 {
            md.push_str(&format!(
                "- {we_only} win{} told only as \"we\": good work nobody can attribute is forfeited.\n",
                if we_only == 1 { " is" } else { "s are" }
            ));
        }
        for s in &f.skills_without_evidence {
            md.push_str(&format!(
                "- No evidence yet this year for the skill \"{}\".\n",
                md_escape_line(s)
            ));
        }
    }
    Story {
        markdown: md,
        headline,
        we_only,
        unlinked: unlinked.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn win(text: &str, serves: Option<(Serves, &str)>) -> StoryWin {
        StoryWin {
            date: "Mar 3".into(),
            text: text.into(),
            link: None,
            serves: serves.map(|(k, t)| (k, t.to_owned())),
        }
    }

    #[test]
    fn groups_flags_and_lists() {
        let f = Facts {
            name: "Ada".into(),
            period: "2027".into(),
            wins: vec![
                win("I led pricing", Some((Serves::Milestone, "Pricing launch"))),
                win("We shipped onboarding", None),
            ],
            writing: vec![("publish one post".into(), "https://x.test/a".into())],
            skills_without_evidence: vec!["hiring".into()],
            ..Facts::default()
        };
        let s = compose(&f);
        assert!(s.headline.contains("I led pricing"), "{}", s.headline);
        assert!(
            s.markdown
                .contains("### Milestone: Pricing launch\n\n- I led pricing")
        );
        assert!(s.markdown.contains("### Not linked to the spec yet"));
        assert!(s.markdown.contains("told as \"we\""));
        assert!(s.markdown.contains("skill \"hiring\""));
        assert!(s.markdown.contains("<https://x.test/a>"));
        assert_eq!((s.we_only, s.unlinked), (1, 1));
    }
}
