//! The local demo, driven by a script: a year of the circle as the person at the terminal sees it.

use std::process::Command;

#[test]
fn a_scripted_year_shows_nudges_checkins_and_replies() {
    let url = std::env::var("DATABASE_URL").expect("scripts/test sets DATABASE_URL");
    let out = Command::new(env!("CARGO_BIN_EXE_career-circle"))
        .args([
            "demo",
            "--script",
            "tests/fixtures/demo-year.txt",
            "--start",
            "2026-12-31T12:00",
            "--zone",
            "Europe/London",
        ])
        .env("DATABASE_URL", url)
        .env("CAREER_CIRCLE_CONFIG", "/nonexistent/local.toml")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.trim().is_empty(),
        "the demo's terminal is not interrupted by logs: {stderr}"
    );

    let dms: Vec<&str> = stdout
        .split("── ")
        .filter(|block| block.starts_with("DM from career-circle"))
        .collect();
    let nudges: Vec<&&str> = dms
        .iter()
        .filter(|b| b.contains("time for your monthly writing"))
        .collect();
    assert_eq!(nudges.len(), 12, "one nudge per month of 2027:\n{stdout}");
    for (i, month) in [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ]
    .iter()
    .enumerate()
    {
        assert!(
            nudges[i].contains(&format!("it's {month} 2027")),
            "nudge {i}: {}",
            nudges[i]
        );
        assert!(
            nudges[i].contains("09:00 GMT") || nudges[i].contains("09:00 BST"),
            "09:00 local: {}",
            nudges[i]
        );
    }
    let prompts = dms
        .iter()
        .filter(|b| b.contains("check-in time for"))
        .count();
    assert_eq!(prompts, 4, "one check-in prompt a quarter");
    assert!(stdout.contains("Stored your Q1 2027 check-in for **Demo circle**"));
    assert!(stdout.contains("Stored your Q2 2027 check-in"));
    assert!(
        stdout.contains("Nice work! **publish one post** is done for February 2027."),
        "done by DM reply"
    );
    assert!(stdout.contains("Saved version 1 of your career spec"));
    assert!(
        stdout.contains("**Grace's career spec**"),
        "a circle-mate's shared spec"
    );
    assert!(stdout.contains("(Ada answered the check-in)"));
    assert!(stdout.contains("annual deep dive"));
    // Each quarter's review thread opens, posts, nudges and closes with a summary and its heatmap.
    for q in 1..=4 {
        assert!(
            stdout.contains(&format!("opened the thread \"Q{q} 2027 review\"")),
            "Q{q} thread:\n{stdout}"
        );
        assert!(
            stdout.contains(&format!("**Q{q} 2027 review: summary**")),
            "Q{q} summary"
        );
        assert!(
            stdout.contains(&format!("(attachment: review-2027-q{q}.png")),
            "Q{q} heatmap"
        );
    }
    assert!(
        stdout.contains("Checked in: 3 of 3"),
        "everyone checked in for Q1"
    );
    // Every family of commands works in the demo, with the README's name:value syntax.
    assert!(
        stdout.contains("**You**, Q1 2027 check-in"),
        "/checkin show"
    );
    assert!(
        stdout.contains("Logged. Wins you can attribute"),
        "/win add"
    );
    assert!(stdout.contains("Your wins in Q1 2027:"), "/win list");
    assert!(
        stdout.contains("**Verdict: it fails a must-have.**")
            && stdout.contains("**Acme staff PM**: weighted score"),
        "/opportunity evaluate"
    );
    assert!(
        stdout.contains("Acme staff PM (2027-02-04)"),
        "/opportunity list"
    );
    assert!(
        stdout.contains("Q2 2027 review, closing 2027-04-26. Still owed:"),
        "/review status"
    );
    assert!(stdout.contains("No feedback for you in the Q2 2027 review yet."));
    assert!(
        stdout.contains("(attachment: career-circle-export.json"),
        "/me export"
    );
    assert!(!stdout.contains("Unknown command"));
    // Issue 16: wins that serve the spec, an event check-in with its landing plan, and the year as a story.
    assert!(
        stdout.contains("It serves the skill **Pricing** in your story."),
        "{stdout}"
    );
    assert!(
        stdout.contains("now serves the milestone **ship the carbon ledger**"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Stored your check-in after a job change: **Said yes to Globex: head of product from March**"),
        "{stdout}"
    );
    assert!(stdout.contains("Your landing plan is set."), "{stdout}");
    assert!(stdout.contains("day 30 in your new role"), "{stdout}");
    assert!(
        stdout.contains("After a job change ("),
        "the next review post: {stdout}"
    );
    assert!(
        stdout.contains("Your career story for 2027: **"),
        "{stdout}"
    );
    assert!(
        stdout.contains("(attachment: career-story-2027.md"),
        "{stdout}"
    );
    assert!(stdout.contains("1 win is told only as \"we\""), "{stdout}");

    // The offer ledger: two offers against two spec versions, the goalpost warning, a decision, a second opinion,
    // and six months on, the look back with its answer next to the scores.
    assert!(
        stdout.contains("**Your trade-offs changed on 4 February 2027** (5 days ago, v2 → v3)"),
        "the goalpost warning:\n{stdout}"
    );
    assert!(stdout.contains("**Against v2 (before 4 February 2027): closer to the vision**"));
    assert!(stdout.contains("Noted: you took **Globex head of product**"));
    assert!(stdout.contains("career-circle in #career-circle"));
    assert!(stdout.contains(
        "**You** asks the circle for a second opinion on an offer: **Globex head of product**"
    ));
    assert!(
        stdout.contains("Six months ago you took **Globex head of product**"),
        "the 6-month question"
    );
    assert!(stdout.contains(
        "Stored: 6 months into **Globex head of product**, lived 4/5/3/4 against scored 5/5/3/4."
    ));
    assert!(
        stdout.contains(
            "#2 Globex head of product (2027-02-09): 4.55 / 5 · must-haves 3 of 3 · closer to the vision · spec v3 \
             (v2 of two weeks before read it: closer to the vision) · core · taken 2027-02-09 · scored 5/5/3/4 \
             (learning/impact/compensation/team) vs lived 4/5/3/4 at 6 months"
        ),
        "the ledger, scored against lived"
    );
    assert!(stdout.contains(
        "#1 Acme staff PM (2027-02-04): 3.65 / 5 · must-haves 1 of 2 · fails a must-have · spec v2"
    ));

    // Two scorecard quarters, by the check-in's form and by DM lines; the table and its chart.
    assert!(
        stdout.contains("**Scorecard Q1 2027:** posts 3 ✓ · coffees 4 · Now-1y milestone on track")
    );
    assert!(stdout.contains("**Scorecard Q2 2027:** posts 2"));
    assert!(
        stdout.contains("**posts** (count, leading, target 3): Q1 2027 3 ✓ · Q2 2027 2"),
        "/spec scorecard"
    );
    assert!(stdout.contains("**coffees** (count, leading, target 6): Q1 2027 4 · Q2 2027 7 ✓"));
    assert!(
        stdout.contains("**Now-1y** ship the carbon ledger: Q1 2027 on track · Q2 2027 at risk")
    );
    assert!(stdout.contains("(attachment: scorecard.png"));
    assert!(
        stdout.contains("Scorecard Q2 2027: posts 2 (target 3) · coffees 7 (target 6 ✓)"),
        "the review post's line"
    );

    // A phase switch: the learning questions before it, the impact ones after.
    assert!(stdout.contains("2. What did I learn that I could not do a quarter ago?"));
    assert!(stdout.contains("You're in your **impact** phase now."));
    assert!(stdout.contains("2. What changed because of my work, in outcome terms?"));
    assert!(stdout.contains("Something to write about, from your impact phase"));

    // A killed big swing counts as kept.
    assert!(stdout.contains("Closed the big swing **run a pricing workshop series** with your post-mortem. It counts as kept, not missed: kept 1, missed 0."));
    // A DM is stored only where it was meant (issue 12).
    assert!(stdout.contains("Any time! Your Q1 2027 check-in for **Demo circle** stays as it is."));
    assert!(stdout.contains("What should I do with this message?"));
    assert!(stdout.contains("Added that to your Q1 2027 check-in for **Demo circle**"));
    assert!(stdout.contains("edited once") && stdout.contains("Earlier version:"));
    // Organisers share the role and remove members.
    assert!(stdout.contains("now organises **Demo circle** too"));
    assert!(stdout.contains("Grace is no longer in **Demo circle**"));
    assert!(stdout.contains("on every server (1)"));
}
