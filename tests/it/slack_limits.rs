//! Slack's rate limits are per method and workspace (`chat.postMessage`'s per channel): a 429 with
//! `Retry-After` holds what it limits and nothing else, against the loopback Slack that keeps limits that way.

use sqlx::PgPool;

use crate::discord_e2e::eventually;
use crate::slack_e2e::{answer, recorded, start, words};
use crate::support::slack::{ALICE, BOB, CHANNEL, Fault, LoopbackSlack, ORGANISER};
use crate::support::t;

/// Writers, with ALICE keeping a monthly commitment and BOB a member without one; both zones known.
async fn circle(slack: &LoopbackSlack, pool: &PgPool) {
    let create = slack.slash_command(
        ORGANISER,
        CHANNEL,
        "/circle",
        "create name:Writers timezone:Europe/Berlin",
    );
    assert!(words(&answer(slack, &create).await).contains("is open"));
    for user in [ALICE, BOB] {
        let join = slack.slash_command(user, CHANNEL, "/circle", "join Writers");
        answer(slack, &join).await;
    }
    let commit = slack.slash_command(ALICE, CHANNEL, "/commit", "add publish one post");
    assert!(words(&answer(slack, &commit).await).contains("Committed"));
    recorded("both zones from the profiles", async || {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM members WHERE platform_user_id = ANY($1) AND zone IS NOT NULL",
        )
        .bind([ALICE, BOB])
        .fetch_one(pool)
        .await
        .unwrap()
            == 2
    })
    .await;
}

#[sqlx::test]
async fn a_rate_limited_method_holds_that_method_only(pool: PgPool) {
    let bot = start(&pool, "2027-01-20T12:00:00Z").await;
    let slack = bot.slack.clone();
    circle(&slack, &pool).await;

    // Opening Alice's DM for her nudge is refused for half an hour.
    slack.fail_next("conversations.open", Fault::RateLimited(1_800));
    bot.clock.set(t("2027-02-01T14:00:30Z"));
    recorded("the nudge waiting out the limit", async || {
        sqlx::query_scalar::<_, bool>(
            "SELECT status = 'pending' AND last_error IS NOT NULL AND next_attempt_at > $1
             FROM deliveries WHERE kind = 'monthly_nudge'",
        )
        .bind(t("2027-02-01T14:00:30Z"))
        .fetch_optional(&pool)
        .await
        .unwrap()
            == Some(true)
    })
    .await;
    let attempts: i32 =
        sqlx::query_scalar("SELECT attempts FROM deliveries WHERE kind = 'monthly_nudge'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(attempts, 0, "a rate limit spends no attempt");

    // Meanwhile Bob writes to the bot: its answer is another method in another channel, and goes at once (held
    // behind the limit, it would wait the half hour).
    slack.dm(BOB, "what can you do?", None);
    eventually("the answer to Bob", || slack.dms_to(BOB).into_iter().next()).await;
    assert_eq!(
        slack.calls_to("conversations.open").len(),
        1,
        "the limited method is not called again while the limit lasts"
    );
    assert!(slack.dms_to(ALICE).is_empty());
    bot.stop().await;
    slack.assert_all_valid();
}

#[sqlx::test]
async fn a_rate_limited_channel_holds_that_channel_only(pool: PgPool) {
    let bot = start(&pool, "2027-01-20T12:00:00Z").await;
    let slack = bot.slack.clone();
    circle(&slack, &pool).await;
    // Both DMs are open: Bob's answered once, Alice's by her own message.
    slack.dm(BOB, "hello", None);
    eventually("the answer to Bob", || slack.dms_to(BOB).into_iter().next()).await;
    let bob_dm = slack.dm_channel_of(BOB).unwrap();

    // Posting in Bob's DM is refused for half an hour; a post to Alice's goes on.
    slack.fail_next("chat.postMessage", Fault::RateLimited(1_800));
    slack.dm(BOB, "are you there?", None);
    recorded("the refused post", async || {
        slack
            .calls_to("chat.postMessage")
            .iter()
            .any(|c| c.refused.as_deref() == Some("429"))
    })
    .await;
    slack.dm(ALICE, "what can you do?", None);
    eventually("the answer to Alice", || {
        slack.dms_to(ALICE).into_iter().next()
    })
    .await;
    let refused = slack
        .calls_to("chat.postMessage")
        .into_iter()
        .filter(|c| c.refused.is_some())
        .collect::<Vec<_>>();
    assert!(
        refused.iter().all(|c| c.args["channel"] == bob_dm.as_str()),
        "only Bob's DM was limited: {refused:?}"
    );
    bot.stop().await;
    slack.assert_all_valid();
}
