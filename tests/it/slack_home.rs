//! The Home tab on the loopback Slack: a member in two circles sees their circles, commitments, the open check-ins
//! with Answer buttons, and their spec's vision and phase, in a view Slack accepts; the Answer button there opens
//! the same check-in form as the prompt's.

use serde_json::Value;
use sqlx::PgPool;

use crate::discord_e2e::eventually;
use crate::slack_checkin::buttons;
use crate::slack_e2e::{acked, answer, dm_containing, recorded, start, words};
use crate::support::slack::{ALICE, CHANNEL, LoopbackSlack, ORGANISER, OTHER_CHANNEL};
use crate::support::t;

async fn circle_id(pool: &PgPool, name: &str) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT id FROM circles WHERE name = $1")
        .bind(name)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// The Home view published for `user` after the `n`th one.
async fn home_after(slack: &LoopbackSlack, user: &str, n: usize) -> Value {
    slack.home_opened(user);
    eventually("the Home tab", || {
        slack
            .published()
            .into_iter()
            .filter(|(u, _)| u == user)
            .nth(n)
            .map(|(_, v)| v)
    })
    .await
}

#[sqlx::test]
async fn the_home_tab_shows_two_circles_the_open_checkins_and_the_phase(pool: PgPool) {
    let bot = start(&pool, "2027-03-20T12:00:00Z").await;
    let slack = bot.slack.clone();
    for (channel, name) in [(CHANNEL, "Writers"), (OTHER_CHANNEL, "Readers")] {
        let create = slack.slash_command(
            ORGANISER,
            channel,
            "/circle",
            &format!("create name:{name} timezone:Europe/Berlin"),
        );
        assert!(words(&answer(&slack, &create).await).contains("is open"));
        let join = slack.slash_command(ALICE, channel, "/circle", &format!("join {name}"));
        assert!(words(&answer(&slack, &join).await).contains("Welcome"));
    }

    // A circle she is not in: the circle list shows it, her Home does not.
    let other = slack.slash_command(ORGANISER, CHANNEL, "/circle", "create name:Painters");
    assert!(words(&answer(&slack, &other).await).contains("is open"));

    // Her spec (the vision through the modal), her phase, and a commitment.
    let edit = slack.slash_command(ALICE, CHANNEL, "/spec", "edit");
    acked(&slack, &edit).await;
    let form = eventually("the spec modal", || slack.views().into_iter().next()).await;
    let vision = form["blocks"][0]["block_id"].as_str().unwrap().to_owned();
    let saved = slack.submit_view(
        ALICE,
        &[(vision.as_str(), "Head of product at a climate company")],
    );
    acked(&slack, &saved).await;
    dm_containing(&slack, ALICE, "Saved version 1").await;
    let phase = slack.slash_command(ALICE, CHANNEL, "/spec", "phase impact");
    assert!(words(&answer(&slack, &phase).await).contains("impact"));
    let commit = slack.slash_command(ALICE, CHANNEL, "/commit", "add publish one post");
    assert!(words(&answer(&slack, &commit).await).contains("Committed"));

    // Before the quarter's prompts, no check-in is open and no Answer button shows.
    let before = home_after(&slack, ALICE, 0).await;
    assert!(
        buttons(&before["blocks"])
            .iter()
            .all(|id| !id.starts_with("cc:checkin:")),
        "{before}"
    );
    assert!(
        before.to_string().contains("No check-in is open"),
        "{before}"
    );

    // The quarter's prompts, one per circle, at 09:00 in her zone: both check-ins are open now.
    bot.clock.set(t("2027-04-05T13:00:30Z"));
    recorded("both prompts sent", async || {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM deliveries d JOIN members m ON m.id = d.member_id \
             WHERE d.kind = 'checkin_prompt' AND d.status = 'sent' AND m.platform_user_id = $1",
        )
        .bind(ALICE)
        .fetch_one(&pool)
        .await
        .unwrap()
            == 2
    })
    .await;
    let home = home_after(&slack, ALICE, 1).await;
    let shown = home.to_string();
    for needle in [
        "Writers",
        "Readers",
        "publish one post",
        "Head of product at a climate company",
        "Phase: impact",
    ] {
        assert!(shown.contains(needle), "{needle} in {shown}");
    }
    let (writers, readers) = (
        circle_id(&pool, "Writers").await,
        circle_id(&pool, "Readers").await,
    );
    let answer_writers = format!("cc:checkin:{writers}:2027-Q2");
    let answer_readers = format!("cc:checkin:{readers}:2027-Q2");
    let offered = buttons(&home["blocks"]);
    assert!(offered.contains(&answer_writers), "{offered:?}");
    assert!(offered.contains(&answer_readers), "{offered:?}");
    // The same action as the prompt's own button.
    let prompt = dm_containing(&slack, ALICE, "in Writers").await;
    assert!(
        buttons(&prompt.blocks).contains(&answer_writers),
        "{:?}",
        prompt.blocks
    );

    // Pressed on Home (no channel, no response_url): the check-in form opens on the press's trigger.
    let press = slack.press_on_home(ALICE, &answer_writers);
    acked(&slack, &press).await;
    let form = eventually("the check-in form", || {
        slack.views().into_iter().find(|v| {
            v["callback_id"].as_str() == Some(&format!("cc:checkinform:{writers}:2027-Q2"))
        })
    })
    .await;
    assert_eq!(
        slack.calls_to("views.open").last().unwrap().args["trigger_id"],
        press["payload"]["trigger_id"]
    );
    let on_track = form["blocks"][0]["block_id"].as_str().unwrap().to_owned();
    let submitted = slack.submit_view(ALICE, &[(on_track.as_str(), "Yes: pricing shipped")]);
    acked(&slack, &submitted).await;
    dm_containing(&slack, ALICE, "Stored your Q2 2027 check-in for *Writers*").await;

    // Home again: Writers answered, Readers still to answer.
    let after = home_after(&slack, ALICE, 2).await.to_string();
    assert!(!after.contains("Painters"), "only her circles: {after}");
    assert!(
        after.contains(&format!("*Writers* in <#{CHANNEL}>")),
        "{after}"
    );
    assert!(after.contains("*Writers*: answered"), "{after}");
    assert!(after.contains("*Readers*: not answered yet"), "{after}");

    bot.stop().await;
    slack.assert_all_valid();
    assert_eq!(slack.validated_count(), slack.calls().len());
}
