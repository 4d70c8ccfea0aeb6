//! Reviews that recover and privacy that keeps its promises (issue 12), through the Discord ChatPort against the
//! loopback Discord: a deleted home channel is reported and fixed with `/review start`, `/me delete` edits the bot's
//! posts that quoted the member, an unknown user leaves the circles, a 60-member heatmap renders.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use career_circle_console::recording::RecordingChat;
use career_circle_core::app::circles::CreateCircle;
use career_circle_core::app::{Actor, Platform};
use career_circle_core::schedule::heatmap;
use career_circle_core::schedule::worker::Worker;
use career_circle_core::settings::Limits;
use career_circle_discord::chat_port::DiscordChat;
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use sqlx::PgPool;

use crate::support::Words as _;
use crate::support::discord::LoopbackDiscord;
use crate::support::{World, t, world};

/// A member of a loopback guild, acting in `channel`.
fn member(guild: &str, user: &str, name: &str, channel: &str) -> Actor {
    Actor {
        platform: Platform::Discord,
        server: Some(guild.to_owned()),
        user_id: user.to_owned(),
        display_name: name.to_owned(),
        channel_id: Some(channel.to_owned()),
        manager: false,
    }
}

fn discord_worker(w: &World, discord: &LoopbackDiscord) -> Worker {
    let chat = DiscordChat::new(Arc::new(discord.http()), StdDuration::from_secs(10)).unwrap();
    let mut ws = w.settings.worker.clone();
    ws.global_rate = 100_000;
    ws.channel_rate = 100_000;
    Worker::new(w.pool.clone(), Arc::new(chat), w.clock.clone(), ws)
}

async fn drive(w: &World, worker: &Worker, to: DateTime<Utc>, step: Duration) {
    let planner = w.planner();
    let mut now = w.clock_now();
    while now <= to {
        w.clock.set(now);
        planner.tick(now).await.unwrap();
        while worker.run_once().await.unwrap().claimed > 0 {}
        now += step;
    }
}

fn content(m: &Value) -> &str {
    m["content"].as_str().unwrap_or_default()
}

/// The seeded guild's organiser, alice and bob in one circle whose home is `#career-circle`.
async fn loopback_circle(w: &World, discord: &LoopbackDiscord) -> Vec<Actor> {
    let seeds = discord.seeds();
    let (guild, channel) = (seeds.guild_id.clone(), seeds.channel_id.clone());
    let people = [
        (seeds.organiser_id.clone(), "Olga Organiser"),
        (seeds.member_ids[0].clone(), "Alice Archer"),
        (seeds.member_ids[1].clone(), "Bob Baker"),
    ];
    let mut actors = Vec::new();
    for (i, (id, name)) in people.iter().enumerate() {
        let a = member(&guild, id, name, &channel);
        if i == 0 {
            w.app
                .circle_create(
                    &a,
                    CreateCircle {
                        name: "PM Circle",
                        channel_id: &channel,
                        zone: Some("UTC"),
                    },
                )
                .await
                .unwrap();
        } else {
            w.app.circle_join(&a, "PM Circle").await.unwrap();
        }
        w.app.me_timezone(&a, "UTC").await.unwrap();
        w.app
            .commit_add(&a, "publish one post", None)
            .await
            .unwrap();
        w.app.spec_visibility(&a, "circle").await.unwrap();
        actors.push(a);
    }
    actors
}

#[sqlx::test]
async fn a_review_whose_channel_was_deleted_is_reported_and_opens_after_review_start(pool: PgPool) {
    let discord = LoopbackDiscord::start().await;
    let w = world(pool, "2027-03-25T00:00:00Z");
    let a = loopback_circle(&w, &discord).await;
    let worker = discord_worker(&w, &discord);
    drive(&w, &worker, t("2027-04-05T10:00:00Z"), Duration::hours(2)).await;
    let home = discord.channel_id();
    assert_eq!(discord.delete_channel(&home), 0, "no gateway client here");
    drive(&w, &worker, t("2027-04-12T12:00:00Z"), Duration::hours(1)).await;

    // The opening failed for good; the organiser is told by DM what happened and what to do.
    let alert = discord
        .dm_messages_to(&a[0].user_id)
        .into_iter()
        .find(|m| content(m).contains("couldn't open the Q2 2027 review of **PM Circle**"))
        .expect("the organiser hears of it");
    assert!(
        content(&alert).contains("`/review start`"),
        "{}",
        content(&alert)
    );
    assert!(
        discord
            .dm_messages_to(&a[1].user_id)
            .iter()
            .all(|m| !content(m).contains("couldn't open")),
        "only organisers"
    );
    let status = w.app.review_status(&a[1], None).await.unwrap();
    assert!(
        status
            .text
            .contains("couldn't open: the home channel is gone"),
        "{}",
        status.text
    );
    // Only once, however long it stays broken.
    drive(&w, &worker, t("2027-04-13T12:00:00Z"), Duration::hours(1)).await;
    let alerts = discord
        .dm_messages_to(&a[0].user_id)
        .into_iter()
        .filter(|m| content(m).contains("couldn't open"))
        .count();
    assert_eq!(alerts, 1);

    // The organiser runs /review start in a new channel: the review opens there, which is the circle's home now.
    let new_home = discord.add_channel(&discord.guild_id(), "circle-home");
    let mut there = a[0].clone();
    there.channel_id = Some(new_home.clone());
    assert!(
        w.app
            .review_start(&a[1], None)
            .await
            .unwrap_err()
            .to_user_text()
            .contains("Only organisers")
    );
    let r = w.app.review_start(&there, None).await.unwrap();
    assert!(
        r.text
            .contains("Trying the **Q2 2027 review** of PM Circle again in"),
        "{}",
        r.text
    );
    assert!(r.text.contains("circle's home now"), "{}", r.text);
    while worker.run_once().await.unwrap().claimed > 0 {}
    let threads = discord.threads_in(&new_home);
    assert_eq!(threads.len(), 1, "{threads:?}");
    let thread = threads[0]["id"].as_str().unwrap().to_owned();
    let posts = discord.messages_in(&thread);
    assert!(
        posts
            .iter()
            .any(|m| content(m).contains("**Alice Archer**")),
        "{posts:?}"
    );
    let status = w.app.review_status(&a[1], None).await.unwrap();
    assert!(status.text.contains("Still owed"), "{}", status.text);
    // Its window starts when it opened: the close comes 14 days later, with the summary.
    drive(&w, &worker, t("2027-04-28T12:00:00Z"), Duration::hours(2)).await;
    assert!(
        discord
            .messages_in(&thread)
            .iter()
            .any(|m| content(m).contains("review: summary"))
    );
    discord.assert_all_valid();
}

#[sqlx::test]
async fn a_summary_whose_thread_was_deleted_is_posted_in_the_home_channel(pool: PgPool) {
    let discord = LoopbackDiscord::start().await;
    let w = world(pool, "2027-03-25T00:00:00Z");
    let _a = loopback_circle(&w, &discord).await;
    let worker = discord_worker(&w, &discord);
    drive(&w, &worker, t("2027-04-12T10:00:00Z"), Duration::hours(2)).await;
    let thread = discord.threads_in(&discord.channel_id())[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    discord.delete_channel(&thread);
    drive(&w, &worker, t("2027-04-27T10:00:00Z"), Duration::hours(2)).await;
    let summary = discord
        .messages_in(&discord.channel_id())
        .into_iter()
        .find(|m| content(m).contains("review: summary"))
        .expect("the summary in the home channel");
    assert_eq!(summary["attachments"].as_array().map(Vec::len), Some(1));
    let closed: Option<DateTime<Utc>> = sqlx::query_scalar("SELECT closed_at FROM review_threads")
        .fetch_one(&w.pool)
        .await
        .unwrap();
    assert!(closed.is_some(), "closed once the summary is posted");
    discord.assert_all_valid();
}

#[sqlx::test]
async fn me_delete_edits_the_bots_posts_that_quote_the_member_and_export_covers_every_server(
    pool: PgPool,
) {
    let discord = LoopbackDiscord::start().await;
    let w = world(pool, "2027-03-25T00:00:00Z");
    let a = loopback_circle(&w, &discord).await;
    let alice = &a[1];
    // Alice is also in a circle on a second server.
    let (guild2, channel2) = discord.add_guild("Second guild");
    discord.join_guild(&guild2, &alice.user_id);
    let elsewhere = member(&guild2, &alice.user_id, "Alice Archer", &channel2);
    w.app
        .circle_create(
            &elsewhere,
            CreateCircle {
                name: "Builders",
                channel_id: &channel2,
                zone: Some("UTC"),
            },
        )
        .await
        .unwrap();
    let marker = "QUOKKA-5521";
    w.app
        .win_add(&elsewhere, &format!("{marker} second-server win"), None)
        .await
        .unwrap();
    let worker = discord_worker(&w, &discord);
    drive(&w, &worker, t("2027-04-05T10:00:00Z"), Duration::hours(2)).await;
    // Alice answers the PM Circle prompt by replying to it.
    let prompt = discord
        .dm_messages_to(&alice.user_id)
        .into_iter()
        .find(|m| content(m).contains("in PM Circle"))
        .expect("prompt");
    let mut dm = alice.clone();
    dm.server = None;
    dm.channel_id = discord.dm_channel_of(&alice.user_id);
    let r = w
        .app
        .dm_message(
            &dm,
            &format!("{marker} on track, shipped the pricing page"),
            prompt["id"].as_str(),
        )
        .await
        .unwrap();
    assert!(
        r.text
            .contains("Stored your Q2 2027 check-in for **PM Circle**"),
        "{}",
        r.text
    );
    drive(&w, &worker, t("2027-04-27T10:00:00Z"), Duration::hours(2)).await;
    let thread = discord.threads_in(&discord.channel_id())[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let posts = discord.messages_in(&thread);
    let her_post = posts
        .iter()
        .find(|m| content(m).contains(marker))
        .expect("her post quotes her check-in")
        .clone();
    let header = posts[0].clone();
    let midway = posts
        .iter()
        .find(|m| content(m).contains("Halfway through"))
        .expect("midway nudge")
        .clone();
    assert!(content(&header).contains("reads"), "{}", content(&header));
    let summary = posts
        .iter()
        .find(|m| content(m).contains("review: summary"))
        .expect("summary")
        .clone();
    assert!(
        content(&summary).contains("Alice Archer"),
        "{}",
        content(&summary)
    );

    // Export from a DM: both servers.
    let export = w.app.me_export(&dm).await.unwrap();
    let json: Value = serde_json::from_slice(&export.files[0].bytes).unwrap();
    let servers: Vec<&str> = json["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["server"].as_str().unwrap())
        .collect();
    assert_eq!(servers.len(), 2);
    assert!(servers.contains(&discord.guild_id().as_str()) && servers.contains(&guild2.as_str()));
    assert!(json["wins"][0]["text"].as_str().unwrap().contains(marker));
    assert!(
        json["checkins"][0]["answers"]["text"]
            .as_str()
            .unwrap()
            .contains(marker)
    );
    assert!(!json["review_posts"].as_array().unwrap().is_empty());
    assert!(!json["prompts"].as_array().unwrap().is_empty());

    // Delete, from the DM: asked first, then everything goes and the bot's posts are edited.
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM members WHERE platform_user_id = $1")
        .bind(&alice.user_id)
        .fetch_all(&w.pool)
        .await
        .unwrap();
    assert_eq!(ids.len(), 2);
    let confirm = w.app.me_delete();
    let r = w
        .app
        .button(&dm, &confirm.buttons[0].custom_id)
        .await
        .unwrap();
    assert!(r.text.contains("gone"), "{}", r.text);
    let before = discord
        .requests_to("PATCH", "/channels/{channel_id}/messages/{message_id}")
        .len();
    while worker.run_once().await.unwrap().claimed > 0 {}
    let edits = discord.requests_to("PATCH", "/channels/{channel_id}/messages/{message_id}");
    let edits = &edits[before..];
    assert_eq!(
        edits.iter().filter(|r| r.path.contains(&thread)).count(),
        4,
        "in PM Circle's review: her post, the header, the midway nudge and the summary"
    );
    assert_eq!(
        edits.len(),
        7,
        "and in her own Builders review on the other server: her post, its header and its summary"
    );
    assert!(edits.iter().all(|r| r.status == Some(200)));
    let now_post = discord
        .message(&thread, her_post["id"].as_str().unwrap())
        .unwrap();
    assert!(
        content(&now_post).contains("removed at the member's request"),
        "{}",
        content(&now_post)
    );
    assert!(!content(&now_post).contains(marker));
    for m in [&header, &midway, &summary] {
        let now = discord.message(&thread, m["id"].as_str().unwrap()).unwrap();
        assert!(!content(&now).contains("Alice"), "{}", content(&now));
        assert!(content(&now).contains("removed from this post at their request"));
        assert!(now["edited_timestamp"].is_string());
    }
    let summary_now = discord
        .message(&thread, summary["id"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        summary_now["attachments"].as_array().map(Vec::len),
        Some(1),
        "a new heatmap, without her row"
    );
    assert_ne!(
        summary_now["attachments"][0]["id"],
        summary["attachments"][0]["id"]
    );

    // No row anywhere names her (the existing scan of every column).
    let left = crate::security::left_behind(&w.pool, marker, &alice.user_id, &ids).await;
    assert!(left.is_empty(), "left behind: {left:?}");
    // And nothing else is left to edit.
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM redactions WHERE status <> 'done'")
        .fetch_one(&w.pool)
        .await
        .unwrap();
    assert_eq!(pending, 0);
    discord.assert_all_valid();
}

#[sqlx::test]
async fn a_user_discord_no_longer_knows_leaves_the_circles(pool: PgPool) {
    let discord = LoopbackDiscord::start().await;
    let w = world(pool, "2027-03-25T00:00:00Z");
    let a = loopback_circle(&w, &discord).await;
    let bob = &a[2];
    discord.delete_account(&bob.user_id);
    let worker = discord_worker(&w, &discord);
    drive(&w, &worker, t("2027-04-01T10:00:00Z"), Duration::hours(2)).await;
    let requests = discord.requests_to("POST", "/users/@me/channels");
    assert!(
        requests
            .iter()
            .any(|r| r.body["recipient_id"] == bob.user_id.as_str() && r.status == Some(404)),
        "Discord said 10013"
    );
    let in_circle: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM memberships ms JOIN members m ON m.id = ms.member_id WHERE m.platform_user_id = $1",
    )
    .bind(&bob.user_id)
    .fetch_one(&w.pool)
    .await
    .unwrap();
    assert_eq!(in_circle, 0, "bob left the circle");
    let failed: Vec<String> = sqlx::query_scalar(
        "SELECT d.last_error FROM deliveries d JOIN members m ON m.id = d.member_id
         WHERE m.platform_user_id = $1 AND d.status = 'failed'",
    )
    .bind(&bob.user_id)
    .fetch_all(&w.pool)
    .await
    .unwrap();
    assert_eq!(failed, vec!["unknown user".to_owned()]);
    // No alert about him: he is gone, not unreachable.
    assert!(
        discord
            .dm_messages_to(&a[0].user_id)
            .iter()
            .all(|m| !content(m).contains("Heads-up"))
    );
    discord.assert_all_valid();
}

#[sqlx::test]
async fn a_sixty_member_summary_renders_its_heatmap(pool: PgPool) {
    let limits = Limits {
        members_per_circle: 60,
        ..Limits::DEFAULT
    };
    let w = world(pool, "2027-04-10T00:00:00Z").with_limits(limits);
    let zones = vec!["UTC"; 60];
    let a = w.circle_with_members("g1", "UTC", &zones).await;
    assert!(
        w.app
            .circle_join(&crate::support::actor("g1", "one-more"), "Circle")
            .await
            .unwrap_err()
            .to_user_text()
            .contains("60 members")
    );
    let chat = Arc::new(RecordingChat::new());
    w.drive(t("2027-04-27T00:00:00Z"), Duration::hours(6), &chat)
        .await;
    let summary = chat
        .sent()
        .into_iter()
        .find(|s| s.message.text.contains("review: summary"))
        .expect("the summary is posted");
    assert!(
        summary.message.text.contains("of 60"),
        "{}",
        summary.message.text.markdown()
    );
    let images: Vec<(String, (u32, u32))> = summary
        .message
        .attachments
        .iter()
        .map(|f| {
            let reader = png::Decoder::new(std::io::Cursor::new(f.bytes.clone()))
                .read_info()
                .expect("a PNG");
            (
                f.filename.clone(),
                (reader.info().width, reader.info().height),
            )
        })
        .collect();
    assert_eq!(
        images,
        vec![
            ("review-2027-q2-1.png".to_owned(), heatmap::size(50, 3)),
            ("review-2027-q2-2.png".to_owned(), heatmap::size(10, 3)),
        ]
    );
    let closed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM review_threads WHERE closed_at IS NOT NULL")
            .fetch_one(&w.pool)
            .await
            .unwrap();
    assert_eq!(closed, 1);
    assert_eq!(a.len(), 60);
}

#[sqlx::test]
async fn the_export_holds_everything_the_deletion_removes(pool: PgPool) {
    let w = world(pool, "2027-03-25T00:00:00Z");
    let a = w.circle_with_members("g1", "UTC", &["UTC", "UTC"]).await;
    let (ann, bob) = (&a[0], &a[1]);
    // Ann is on a second server too.
    let ann2 = crate::support::actor("g2", &ann.user_id);
    w.app
        .circle_create(
            &ann2,
            CreateCircle {
                name: "Elsewhere",
                channel_id: "x",
                zone: Some("UTC"),
            },
        )
        .await
        .unwrap();
    for x in [ann, bob] {
        w.app.spec_visibility(x, "circle").await.unwrap();
    }
    w.app
        .spec_save(
            ann,
            &[
                ("vision".into(), "lead product".into()),
                ("milestones".into(), "Now-1y: ship the ledger".into()),
            ],
        )
        .await
        .unwrap();
    w.app.win_add(ann, "a win", None).await.unwrap();
    w.app.win_add(&ann2, "a win elsewhere", None).await.unwrap();
    w.app
        .opportunity_evaluate(
            ann,
            career_circle_core::app::opportunities::Evaluate {
                name: "Acme",
                scores: [3, 3, 3, 3, 3],
                fails: None,
                bet: None,
            },
        )
        .await
        .unwrap();
    // The measuring stick's records: a metric with a value, a milestone checked, her offer taken and shared with
    // Bob's opinion on it, and her opinion on Bob's shared offer.
    w.app
        .metric_add(
            ann,
            career_circle_core::app::scorecard::MetricAdd {
                name: "posts",
                value_type: "count",
                kind: "leading",
                target: None,
                private: false,
            },
        )
        .await
        .unwrap();
    w.app
        .dm_message(ann, "metric posts: 3\nmilestone 1y: on track", None)
        .await
        .unwrap();
    let shares = Arc::new(RecordingChat::with_capabilities(
        &career_circle_discord::CAPABILITIES,
    ));
    let app = w.app.clone().with_chat(shares.clone());
    app.opportunity_decide(ann, "Acme", "taken").await.unwrap();
    app.opportunity_share(ann, "Acme", false, None)
        .await
        .unwrap();
    let home = career_circle_core::chat::ThreadRef::channel("home");
    let anns_offer = shares.sent()[0].posted.message_id.clone();
    assert!(
        app.channel_message(bob, &home, "o1", "take it", Some(&anns_offer), &[])
            .await
            .unwrap()
    );
    app.opportunity_evaluate(
        bob,
        career_circle_core::app::opportunities::Evaluate {
            name: "Bob's offer",
            scores: [3, 3, 3, 3, 3],
            fails: None,
            bet: None,
        },
    )
    .await
    .unwrap();
    app.opportunity_share(bob, "Bob's offer", false, None)
        .await
        .unwrap();
    let bobs_offer = shares.sent()[1].posted.message_id.clone();
    assert!(
        app.channel_message(ann, &home, "o2", "think twice", Some(&bobs_offer), &[])
            .await
            .unwrap()
    );
    let chat = Arc::new(RecordingChat::new());
    w.drive(t("2027-04-05T10:00:00Z"), Duration::hours(1), &chat)
        .await;
    w.app
        .commit_done(
            ann,
            career_circle_core::app::commitments::Done {
                commitment: None,
                link: None,
                note: None,
            },
        )
        .await
        .unwrap();
    // A check-in with a revision, and a DM still waiting for her choice.
    w.app.checkin_command(ann, None, "first").await.unwrap();
    w.app.checkin_command(ann, None, "second").await.unwrap();
    let mut dm = ann.clone();
    dm.server = None;
    let asked = w
        .app
        .dm_message(&dm, "one more thought", None)
        .await
        .unwrap();
    assert!(!asked.buttons.is_empty(), "{}", asked.text.markdown());
    w.drive(t("2027-04-12T10:00:00Z"), Duration::hours(1), &chat)
        .await;
    // Feedback both ways in the review.
    let thread: String = sqlx::query_scalar(
        "SELECT t.thread_channel_id FROM review_threads t JOIN circles c ON c.id = t.circle_id
         WHERE c.name = 'Circle'",
    )
    .fetch_one(&w.pool)
    .await
    .unwrap();
    let posts: Vec<(i64, String)> =
        sqlx::query_as("SELECT member_id, message_id FROM review_posts")
            .fetch_all(&w.pool)
            .await
            .unwrap();
    let (ann_id, bob_id) = (w.member_id(ann).await, w.member_id(bob).await);
    let post_of = |m: i64| posts.iter().find(|(id, _)| *id == m).unwrap().1.clone();
    let thread = career_circle_core::chat::ThreadRef::channel(thread);
    assert!(
        w.app
            .channel_message(ann, &thread, "f1", "to bob", Some(&post_of(bob_id)), &[])
            .await
            .unwrap()
    );
    assert!(
        w.app
            .channel_message(bob, &thread, "f2", "to ann", Some(&post_of(ann_id)), &[])
            .await
            .unwrap()
    );

    // Issue 16's records: an event check-in, a landing plan with an outcome, a story shared into the review, private
    // feedback each way, and her mark on the piece she received.
    let review: i64 = sqlx::query_scalar(
        "SELECT t.id FROM review_threads t JOIN circles c ON c.id = t.circle_id WHERE c.name = 'Circle'",
    )
    .fetch_one(&w.pool)
    .await
    .unwrap();
    let circle = w.circle_id().await;
    for sql in [
        "INSERT INTO event_checkins (member_id, kind, happened, happened_on, created_at)
         VALUES ($1, 'promotion', 'promoted', '2027-04-01', now())",
        "INSERT INTO landing_plans (member_id, started_on, created_at) VALUES ($1, '2027-04-01', now())",
        "INSERT INTO landing_outcomes (plan_id, day, outcome, answered_at)
         SELECT id, 30, 'met the team', now() FROM landing_plans WHERE member_id = $1",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(ann_id)
            .execute(&w.pool)
            .await
            .unwrap();
    }
    sqlx::query(
        "INSERT INTO story_shares (review_thread_id, member_id, period, message_id, shared_at)
         VALUES ($1, $2, '2027', 'story-1', now())",
    )
    .bind(review)
    .bind(ann_id)
    .execute(&w.pool)
    .await
    .unwrap();
    for (author, subject) in [(bob_id, ann_id), (ann_id, bob_id)] {
        sqlx::query(
            "INSERT INTO private_feedback (author_id, subject_id, circle_id, anonymous, text, created_at)
             VALUES ($1, $2, $3, false, 'a private note', now())",
        )
        .bind(author)
        .bind(subject)
        .bind(circle)
        .execute(&w.pool)
        .await
        .unwrap();
    }
    sqlx::query(
        "INSERT INTO feedback_marks (member_id, private_feedback_id, decision, marked_at)
         SELECT $1, id, 'adopt', now() FROM private_feedback WHERE subject_id = $1",
    )
    .bind(ann_id)
    .execute(&w.pool)
    .await
    .unwrap();

    // Six months after taking Acme, how it turned out.
    w.clock.set(t("2027-10-01T12:00:00Z"));
    w.app
        .opportunity_lived(
            ann,
            career_circle_core::app::opportunities::Lived {
                offer: "Acme",
                scores: [3, 4, 3, 4],
                note: None,
            },
        )
        .await
        .unwrap();

    let export = w.app.me_export(&dm).await.unwrap();
    let json: Value = serde_json::from_slice(&export.files[0].bytes).unwrap();
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM members WHERE platform_user_id = $1")
        .bind(&ann.user_id)
        .fetch_all(&w.pool)
        .await
        .unwrap();
    let len = |key: &str| json[key].as_array().map_or(0, Vec::len) as i64;
    let nested = |key: &str, inner: &str| {
        json[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x[inner].as_array().map_or(0, Vec::len) as i64)
            .sum::<i64>()
    };
    let received = |keep: fn(&Value) -> bool| {
        json["feedback_received"]
            .as_array()
            .map_or(0, |a| a.iter().filter(|f| keep(f)).count()) as i64
    };
    // Every table the deletion reaches (a foreign key to members, or to a table that has one), and where the
    // export holds its rows. A new table must be added here, and to the export.
    let exported: Vec<(&str, &str, i64)> = vec![
        (
            "members",
            "SELECT count(*) FROM members WHERE id = ANY($1)",
            len("members"),
        ),
        (
            "memberships",
            "SELECT count(*) FROM memberships WHERE member_id = ANY($1)",
            len("circles"),
        ),
        (
            "spec_versions",
            "SELECT count(*) FROM spec_versions WHERE member_id = ANY($1)",
            len("spec_versions"),
        ),
        (
            "commitments",
            "SELECT count(*) FROM commitments WHERE member_id = ANY($1)",
            len("commitments"),
        ),
        (
            "commitment_periods",
            "SELECT count(*) FROM commitment_periods p JOIN commitments c ON c.id = p.commitment_id
             WHERE c.member_id = ANY($1)",
            nested("commitments", "periods"),
        ),
        (
            "wins",
            "SELECT count(*) FROM wins WHERE member_id = ANY($1)",
            len("wins"),
        ),
        (
            "checkins",
            "SELECT count(*) FROM checkins WHERE member_id = ANY($1)",
            len("checkins"),
        ),
        (
            "checkin_revisions",
            "SELECT count(*) FROM checkin_revisions r JOIN checkins c ON c.id = r.checkin_id
             WHERE c.member_id = ANY($1)",
            nested("checkins", "earlier_versions"),
        ),
        (
            "opportunity_evaluations",
            "SELECT count(*) FROM opportunity_evaluations WHERE member_id = ANY($1)",
            len("opportunities"),
        ),
        (
            "review_posts",
            "SELECT count(*) FROM review_posts WHERE member_id = ANY($1)",
            len("review_posts"),
        ),
        (
            "review_assignments",
            "SELECT count(*) FROM review_assignments WHERE reviewer_id = ANY($1) OR reviewee_id = ANY($1)",
            len("readings"),
        ),
        (
            "peer_feedback",
            "SELECT count(*) FROM peer_feedback WHERE author_id = ANY($1) OR subject_id = ANY($1)",
            len("feedback"),
        ),
        (
            "deliveries",
            "SELECT count(*) FROM deliveries WHERE member_id = ANY($1)",
            len("prompts"),
        ),
        (
            "pending_replies",
            "SELECT count(*) FROM pending_replies WHERE member_id = ANY($1)",
            len("waiting_messages"),
        ),
        (
            "event_checkins",
            "SELECT count(*) FROM event_checkins WHERE member_id = ANY($1)",
            len("event_checkins"),
        ),
        (
            "landing_plans",
            "SELECT count(*) FROM landing_plans WHERE member_id = ANY($1)",
            len("landing_plans"),
        ),
        (
            "landing_outcomes",
            "SELECT count(*) FROM landing_outcomes o JOIN landing_plans p ON p.id = o.plan_id
             WHERE p.member_id = ANY($1)",
            nested("landing_plans", "outcomes"),
        ),
        (
            "story_shares",
            "SELECT count(*) FROM story_shares WHERE member_id = ANY($1)",
            len("stories_shared"),
        ),
        (
            "private_feedback",
            "SELECT count(*) FROM private_feedback WHERE author_id = ANY($1) OR subject_id = ANY($1)",
            len("private_feedback_written") + received(|f| f["in_private"] == true),
        ),
        (
            "feedback_marks",
            "SELECT count(*) FROM feedback_marks WHERE member_id = ANY($1)",
            received(|f| !f["decision"].is_null()),
        ),
        (
            "spec_metrics",
            "SELECT count(*) FROM spec_metrics WHERE member_id = ANY($1)",
            len("scorecard_metrics"),
        ),
        (
            "metric_values",
            "SELECT count(*) FROM metric_values v JOIN spec_metrics m ON m.id = v.metric_id
             WHERE m.member_id = ANY($1)",
            nested("scorecard_metrics", "values"),
        ),
        (
            "milestone_checks",
            "SELECT count(*) FROM milestone_checks WHERE member_id = ANY($1)",
            len("scorecard_milestones"),
        ),
        (
            "opportunity_hindsight",
            "SELECT count(*) FROM opportunity_hindsight h JOIN opportunity_evaluations e ON e.id = h.evaluation_id
             WHERE e.member_id = ANY($1)",
            nested("opportunities", "hindsight"),
        ),
        (
            "opportunity_shares",
            "SELECT count(*) FROM opportunity_shares s JOIN opportunity_evaluations e ON e.id = s.evaluation_id
             WHERE e.member_id = ANY($1)",
            nested("opportunities", "shared_with"),
        ),
        (
            "opportunity_opinions",
            "SELECT count(*) FROM opportunity_opinions o JOIN opportunity_evaluations e ON e.id = o.evaluation_id
             WHERE e.member_id = ANY($1) OR o.author_id = ANY($1)",
            nested("opportunities", "opinions") + len("opinions_written"),
        ),
    ];
    let reached: Vec<String> = sqlx::query_scalar(
        "WITH RECURSIVE reach(t) AS (
             SELECT 'members'::text
             UNION SELECT c.conrelid::regclass::text FROM pg_constraint c JOIN reach r ON c.confrelid::regclass::text = r.t
             WHERE c.contype = 'f' AND c.confdeltype = 'c')
         SELECT t FROM reach WHERE t NOT IN ('circles', 'servers')
           AND NOT (SELECT relispartition FROM pg_class WHERE oid = t::regclass) ORDER BY t",
    )
    .fetch_all(&w.pool)
    .await
    .unwrap();
    let mut listed: Vec<String> = exported.iter().map(|(t, _, _)| (*t).to_owned()).collect();
    listed.sort();
    assert_eq!(
        reached, listed,
        "every table the deletion reaches is exported"
    );
    for (table, count, in_export) in &exported {
        let rows: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(*count))
            .bind(&ids)
            .fetch_one(&w.pool)
            .await
            .unwrap();
        assert!(rows > 0, "{table}: the test gives her rows in every table");
        assert_eq!(rows, *in_export, "{table}");
    }
}
