//! A DM is stored only where the member meant it (issue 12): replies go to their prompt's check-in, acknowledgements
//! never replace an answer, a DM after an answer is asked about, several open check-ins make the bot ask which.

use std::sync::Arc;

use career_circle_console::recording::RecordingChat;
use career_circle_core::app::circles::CreateCircle;
use career_circle_core::app::{Actor, Reply};
use career_circle_core::chat::Destination;
use chrono::Duration;
use sqlx::PgPool;

use crate::support::Words as _;
use crate::support::{actor, t, world};

fn prompts_to(chat: &RecordingChat, a: &Actor) -> Vec<career_circle_console::recording::Sent> {
    chat.sent()
        .into_iter()
        .filter(|s| {
            s.to == Destination::Dm {
                user_id: a.user_id.clone(),
            } && s.message.text.contains("check-in time")
        })
        .collect()
}

fn button<'a>(reply: &'a Reply, label: &str) -> &'a str {
    &reply
        .buttons
        .iter()
        .find(|b| b.label.starts_with(label))
        .unwrap_or_else(|| panic!("no {label} button in {:?}", reply.buttons))
        .custom_id
}

async fn stored(pool: &PgPool, user: &str) -> Vec<(String, serde_json::Value)> {
    sqlx::query_as(
        "SELECT c.name, k.answers FROM checkins k JOIN members m ON m.id = k.member_id
         JOIN circles c ON c.id = k.circle_id WHERE m.platform_user_id = $1 ORDER BY c.name",
    )
    .bind(user)
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn revisions(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM checkin_revisions")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn thanks_never_replaces_an_answer_and_a_second_paragraph_is_asked_about(pool: PgPool) {
    let w = world(pool, "2027-03-25T00:00:00Z");
    let a = w.circle_with_members("g1", "UTC", &["UTC", "UTC"]).await;
    let chat = Arc::new(RecordingChat::new());
    w.drive(t("2027-04-05T10:00:00Z"), Duration::hours(1), &chat)
        .await;

    // The first DM (no reply) answers the one open check-in.
    let first = "On track: pricing shipped, two posts out.";
    let r = w.app.dm_message(&a[0], first, None).await.unwrap();
    assert!(
        r.text.contains("Stored your Q2 2027 check-in"),
        "{}",
        r.text
    );

    // "thanks!" is an acknowledgement: nothing stored, nothing asked.
    let r = w.app.dm_message(&a[0], "thanks!", None).await.unwrap();
    assert!(r.buttons.is_empty(), "{:?}", r.buttons);
    assert!(r.text.contains("stays as it is"), "{}", r.text);
    let r = w.app.dm_message(&a[0], "👍", None).await.unwrap();
    assert!(r.buttons.is_empty());
    assert_eq!(stored(&w.pool, &a[0].user_id).await[0].1["text"], first);
    assert_eq!(revisions(&w.pool).await, 0);

    // A second paragraph: the bot asks what to do with it, quoting it, and stores nothing yet.
    let second = "Also: I want to hire a second PM by June.";
    let asked = w.app.dm_message(&a[0], second, None).await.unwrap();
    assert!(
        asked
            .text
            .contains("You've already checked in for Q2 2027 in **Circle**"),
        "{}",
        asked.text
    );
    assert!(
        asked.text.contains("> Also: I want to hire"),
        "{}",
        asked.text
    );
    let labels: Vec<&str> = asked.buttons.iter().map(|b| b.label.as_str()).collect();
    assert_eq!(
        labels,
        ["Add it to my check-in", "Replace my check-in", "Leave it"]
    );
    assert!(asked.buttons.iter().all(|b| b.custom_id.len() <= 100));
    assert_eq!(stored(&w.pool, &a[0].user_id).await[0].1["text"], first);

    // Someone else cannot press it.
    assert!(
        w.app
            .button(&a[1], button(&asked, "Add"))
            .await
            .unwrap_err()
            .to_user_text()
            .contains("out of date")
    );
    // "Append" keeps both, and the earlier answer as a revision.
    let r = w.app.button(&a[0], button(&asked, "Add")).await.unwrap();
    assert!(
        r.text.contains("Added that to your Q2 2027 check-in"),
        "{}",
        r.text
    );
    let now = &stored(&w.pool, &a[0].user_id).await[0].1["text"];
    assert_eq!(now, &format!("{first}\n\n{second}"));
    assert_eq!(revisions(&w.pool).await, 1);
    // The same button a second time does nothing.
    assert!(
        w.app
            .button(&a[0], button(&asked, "Add"))
            .await
            .unwrap_err()
            .to_user_text()
            .contains("out of date")
    );
    assert_eq!(revisions(&w.pool).await, 1);

    // /checkin show and history show the revision.
    let shown = w.app.checkin_show(&a[0], None, None).await.unwrap();
    assert!(shown.text.contains("edited once"), "{}", shown.text);
    assert!(shown.text.contains("Earlier version:"), "{}", shown.text);
    assert!(shown.text.contains(first), "{}", shown.text);
    let history = w.app.checkin_history(&a[0]).await.unwrap();
    assert!(
        history.text.contains("(1 earlier version)"),
        "{}",
        history.text
    );

    // "Leave it" stores nothing.
    let asked = w
        .app
        .dm_message(&a[0], "Actually scrap that last bit.", None)
        .await
        .unwrap();
    let r = w.app.button(&a[0], button(&asked, "Leave")).await.unwrap();
    assert!(r.text.contains("didn't store"), "{}", r.text);
    assert_eq!(revisions(&w.pool).await, 1);

    // A reply to the prompt is about that check-in too, and asks the same way once it has an answer.
    let prompt = &prompts_to(&chat, &a[0])[0];
    let asked = w
        .app
        .dm_message(&a[0], "Replacing it all.", Some(&prompt.posted.message_id))
        .await
        .unwrap();
    let r = w
        .app
        .button(&a[0], button(&asked, "Replace"))
        .await
        .unwrap();
    assert!(r.text.contains("Updated"), "{}", r.text);
    assert_eq!(
        stored(&w.pool, &a[0].user_id).await[0].1["text"],
        "Replacing it all."
    );
    assert_eq!(revisions(&w.pool).await, 2);
    // The form and /checkin answer are explicit: they update at once.
    let r = w
        .app
        .checkin_command(&a[0], None, "By command.")
        .await
        .unwrap();
    assert!(r.text.contains("Updated"));
    assert_eq!(revisions(&w.pool).await, 3);
}

#[sqlx::test]
async fn several_open_checkins_make_the_bot_ask_which_and_replies_land_in_their_circle(
    pool: PgPool,
) {
    let w = world(pool, "2027-03-25T00:00:00Z");
    // Ann is in "Writers" on g1 and in "Builders" on g2 (two member records).
    let ann = actor("g1", "ann");
    let ann2 = actor("g2", "ann");
    for (who, name) in [(&ann, "Writers"), (&ann2, "Builders")] {
        w.app
            .circle_create(
                who,
                CreateCircle {
                    name,
                    channel_id: "home",
                    zone: Some("UTC"),
                },
            )
            .await
            .unwrap();
    }
    let chat = Arc::new(RecordingChat::new());
    w.drive(t("2027-04-05T10:00:00Z"), Duration::hours(1), &chat)
        .await;
    let prompts = prompts_to(&chat, &ann);
    assert_eq!(prompts.len(), 2, "one prompt per circle");
    let prompt_of = |circle: &str| {
        prompts
            .iter()
            .find(|p| p.message.text.contains(circle))
            .unwrap()
            .posted
            .message_id
            .clone()
    };

    // Not a reply: which circle?
    let asked = w
        .app
        .dm_message(&ann, "Going well: shipped the ledger.", None)
        .await
        .unwrap();
    assert!(asked.text.contains("Which circle"), "{}", asked.text);
    let mut labels: Vec<&str> = asked.buttons.iter().map(|b| b.label.as_str()).collect();
    labels.sort_unstable();
    assert_eq!(labels, ["Builders · Q2 2027", "Writers · Q2 2027"]);
    assert!(
        stored(&w.pool, "ann").await.is_empty(),
        "nothing stored yet"
    );
    // An acknowledgement is not asked about.
    let r = w.app.dm_message(&ann, "ok", None).await.unwrap();
    assert!(r.buttons.is_empty());

    // Choosing a circle stores it there (its first answer).
    let r = w
        .app
        .button(&ann, button(&asked, "Builders"))
        .await
        .unwrap();
    assert!(
        r.text
            .contains("Stored your Q2 2027 check-in for **Builders**"),
        "{}",
        r.text
    );

    // A reply to each prompt lands in its own circle.
    let r = w
        .app
        .dm_message(&ann, "Writers: two posts.", Some(&prompt_of("Writers")))
        .await
        .unwrap();
    assert!(r.text.contains("for **Writers**"), "{}", r.text);
    let all = stored(&w.pool, "ann").await;
    assert_eq!(
        all.iter()
            .map(|(c, a)| (c.as_str(), a["text"].as_str().unwrap()))
            .collect::<Vec<_>>(),
        [
            ("Builders", "Going well: shipped the ledger."),
            ("Writers", "Writers: two posts.")
        ]
    );
    // Replying to Builders' prompt again asks (it has an answer) rather than replacing it.
    let again = w
        .app
        .dm_message(&ann, "More for Builders.", Some(&prompt_of("Builders")))
        .await
        .unwrap();
    assert!(again.text.contains("in **Builders**"), "{}", again.text);
    assert_eq!(again.buttons.len(), 3);

    // After leaving one circle (she is its only member, so she may), a non-reply DM is about the other.
    w.app.circle_leave(&ann, Some("Writers")).await.unwrap();
    let open = w
        .app
        .dm_message(&ann, "Something for whichever is open.", None)
        .await
        .unwrap();
    assert!(open.text.contains("in **Builders**"), "{}", open.text);
}

#[sqlx::test]
async fn done_follows_the_same_rules(pool: PgPool) {
    let w = world(pool, "2027-03-25T00:00:00Z");
    let ann = actor("g1", "ann");
    let ann2 = actor("g2", "ann");
    for (who, name) in [(&ann, "Writers"), (&ann2, "Builders")] {
        w.app
            .circle_create(
                who,
                CreateCircle {
                    name,
                    channel_id: "home",
                    zone: Some("UTC"),
                },
            )
            .await
            .unwrap();
        w.app
            .commit_add(who, &format!("{name} post"), None)
            .await
            .unwrap();
    }
    let chat = Arc::new(RecordingChat::new());
    w.drive(t("2027-04-01T10:00:00Z"), Duration::hours(1), &chat)
        .await;
    let nudges: Vec<_> = chat
        .sent()
        .into_iter()
        .filter(|s| s.message.text.contains("time for your monthly writing"))
        .collect();
    assert_eq!(
        nudges.len(),
        2,
        "one per server: each lists that server's commitments"
    );

    // A reply to a nudge marks that nudge's commitment.
    let builders = nudges
        .iter()
        .find(|n| n.message.text.contains("Builders post"))
        .unwrap();
    let r = w
        .app
        .dm_message(
            &ann,
            "done https://example.com/a",
            Some(&builders.posted.message_id),
        )
        .await
        .unwrap();
    assert!(
        r.text.contains("**Builders post** is done for April 2027"),
        "{}",
        r.text
    );

    // Not a reply, two servers' commitments: which one?
    let asked = w
        .app
        .dm_message(&ann, "done https://example.com/b", None)
        .await
        .unwrap();
    assert!(asked.text.contains("Which one is done?"), "{}", asked.text);
    let r = w.app.button(&ann, button(&asked, "Writers")).await.unwrap();
    assert!(
        r.text.contains("**Writers post** is done for April 2027"),
        "{}",
        r.text
    );

    // A different link for a month already done is asked about, not swapped in.
    let asked = w
        .app
        .dm_message(
            &ann,
            "done https://example.com/c",
            Some(&builders.posted.message_id),
        )
        .await
        .unwrap();
    assert!(
        asked.text.contains("already done for April 2027"),
        "{}",
        asked.text
    );
    let link = || async {
        sqlx::query_scalar::<_, Option<String>>(
            "SELECT p.link FROM commitment_periods p JOIN commitments c ON c.id = p.commitment_id
             WHERE c.title = 'Builders post'",
        )
        .fetch_one(&w.pool)
        .await
        .unwrap()
    };
    assert_eq!(link().await.as_deref(), Some("https://example.com/a"));
    w.app
        .button(&ann, button(&asked, "Use the new"))
        .await
        .unwrap();
    assert_eq!(link().await.as_deref(), Some("https://example.com/c"));
}
