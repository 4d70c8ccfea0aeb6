//! The member-facing use cases against a real database: happy paths, each validation error, permission rules.

use career_circle_core::app::circles::{CircleSettings, CreateCircle};
use career_circle_core::app::commitments::Done;
use career_circle_core::app::opportunities::Evaluate;
use career_circle_core::app::reply::Audience;
use sqlx::PgPool;

use crate::support::Words as _;
use crate::support::{actor, t, world};

fn create<'a>(name: &'a str) -> CreateCircle<'a> {
    CreateCircle {
        name,
        channel_id: "chan",
        zone: None,
    }
}

fn user_error(r: career_circle_core::app::Result<career_circle_core::app::Reply>) -> String {
    match r {
        Err(career_circle_core::app::Error::User(e)) => {
            career_circle_discord::render::markdown(&e.0)
        }
        other => panic!("expected a user error, got {other:?}"),
    }
}

#[sqlx::test]
async fn circles_create_join_leave_and_organiser_rules(pool: PgPool) {
    let w = world(pool, "2027-01-10T12:00:00Z");
    let (org, ann, bob) = (actor("g1", "org"), actor("g1", "ann"), actor("g1", "bob"));
    let r = w
        .app
        .circle_create(
            &org,
            CreateCircle {
                name: "PM Circle",
                channel_id: "c1",
                zone: Some("europe/london"),
            },
        )
        .await
        .unwrap();
    assert_eq!(r.audience, Audience::Channel, "circle content is public");
    assert!(r.text.contains("Europe/London"));
    assert!(
        user_error(w.app.circle_create(&ann, create("pm circle")).await).contains("already exists")
    );
    assert!(user_error(w.app.circle_create(&ann, create("  ")).await).contains("needs a name"));
    assert!(
        user_error(w.app.circle_create(&ann, create(&"x".repeat(101))).await)
            .contains("limit is 100")
    );
    let bad_zone = user_error(
        w.app
            .circle_create(
                &ann,
                CreateCircle {
                    name: "B",
                    channel_id: "c",
                    zone: Some("Europe/Londn"),
                },
            )
            .await,
    );
    assert!(
        bad_zone.contains("Europe/London"),
        "suggests the closest zone: {bad_zone}"
    );
    // One guild may hold several circles.
    w.app.circle_create(&ann, create("Writers")).await.unwrap();
    w.app.circle_join(&bob, "pm circle").await.unwrap();
    assert!(
        w.app
            .circle_join(&bob, "PM Circle")
            .await
            .unwrap()
            .text
            .contains("already in")
    );
    assert!(user_error(w.app.circle_join(&bob, "Nope").await).contains("no circle called"));
    let members = w.app.circle_members(&bob, None).await.unwrap();
    assert!(
        members.text.contains("User org (organiser)") && members.text.contains("User bob"),
        "{}",
        members.text
    );
    // Organiser-only settings refuse members, and a bad value changes nothing.
    let denied = user_error(
        w.app
            .circle_settings(
                &bob,
                CircleSettings {
                    zone: Some("Asia/Tokyo"),
                    ..Default::default()
                },
            )
            .await,
    );
    assert!(denied.contains("Only organisers"));
    let bad_cron = user_error(
        w.app
            .circle_settings(
                &org,
                CircleSettings {
                    zone: Some("Asia/Tokyo"),
                    schedule: Some(("monthly_nudge", "0 25 1 * *")),
                    ..Default::default()
                },
            )
            .await,
    );
    assert!(bad_cron.contains("hour"), "{bad_cron}");
    let zone: String = sqlx::query_scalar("SELECT zone FROM circles WHERE name = 'PM Circle'")
        .fetch_one(&w.pool)
        .await
        .unwrap();
    assert_eq!(zone, "Europe/London", "nothing changed");
    let ok = w
        .app
        .circle_settings(
            &org,
            CircleSettings {
                schedule: Some(("monthly_nudge", "monthly on day 3 at 08:30")),
                review_window_days: Some(10),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(
        ok.text.contains("30 8 3 * *") && ok.text.contains("review window 10 days"),
        "{}",
        ok.text
    );
    assert!(
        user_error(
            w.app
                .circle_settings(
                    &org,
                    CircleSettings {
                        review_window_days: Some(0),
                        ..Default::default()
                    }
                )
                .await
        )
        .contains("between 1 and 90")
    );
    // Pause and leave.
    assert!(
        user_error(w.app.circle_pause(&bob, None, None, false).await).contains("Only organisers")
    );
    assert!(
        user_error(
            w.app
                .circle_pause(&org, None, Some(t("2026-01-01T00:00:00Z")), false)
                .await
        )
        .contains("already passed")
    );
    assert!(
        w.app
            .circle_pause(&org, None, Some(t("2027-02-01T00:00:00Z")), false)
            .await
            .unwrap()
            .text
            .contains("paused until 2027-02-01")
    );
    assert!(user_error(w.app.circle_leave(&org, None).await).contains("only organiser"));
    assert!(
        w.app
            .circle_leave(&bob, None)
            .await
            .unwrap()
            .text
            .contains("left")
    );
    // A DM has no server: server commands say so.
    let mut dm = bob.clone();
    dm.server = None;
    assert!(user_error(w.app.circle_list(&dm).await).contains("not in DMs"));
}

#[sqlx::test]
async fn specs_version_show_diff_phase_and_privacy(pool: PgPool) {
    let w = world(pool, "2027-01-10T12:00:00Z");
    let (ann, bob, eve) = (actor("g1", "ann"), actor("g1", "bob"), actor("g2", "eve"));
    w.app.circle_create(&ann, create("C")).await.unwrap();
    w.app.circle_join(&bob, "C").await.unwrap();
    let form = w.app.spec_edit(&ann).await.unwrap().modal.unwrap();
    assert_eq!(form.inputs.len(), 5, "Discord allows five inputs per modal");
    assert!(form.inputs.iter().all(|i| i.value.is_none()));
    let f = |v: &str| {
        vec![
            ("vision".to_owned(), v.to_owned()),
            ("milestones".to_owned(), "Now-1y: lead\n3-5y: VP".to_owned()),
        ]
    };
    assert!(
        w.app
            .spec_save(&ann, &f("Head of product"))
            .await
            .unwrap()
            .text
            .contains("version 1")
    );
    let form = w.app.spec_edit(&ann).await.unwrap().modal.unwrap();
    assert_eq!(
        form.inputs[0].value.as_deref(),
        Some("Head of product"),
        "pre-filled"
    );
    assert!(
        w.app
            .spec_save(&ann, &f("Head of product"))
            .await
            .unwrap()
            .text
            .contains("Nothing changed")
    );
    w.app
        .spec_save(&ann, &f("Founder of a climate startup"))
        .await
        .unwrap();
    assert!(
        user_error(
            w.app
                .spec_save(&ann, &[("vision".into(), "x".repeat(4001))])
                .await
        )
        .contains("limit is 4000")
    );
    assert!(
        user_error(
            w.app
                .spec_save(&ann, &[("salary".into(), "x".into())])
                .await
        )
        .contains("not a part")
    );
    let diff = w.app.spec_diff(&ann, None, None).await.unwrap();
    assert!(
        diff.text.contains("- Head of product") && diff.text.contains("+ Founder"),
        "{}",
        diff.text
    );
    assert!(
        user_error(w.app.spec_diff(&ann, Some(1), Some(9)).await)
            .contains("Versions run from 1 to 2")
    );
    assert!(w.app.spec_history(&ann).await.unwrap().text.contains("v2"));
    // Private by default: others see nothing; circle visibility opens it to circle-mates only, never across guilds.
    assert!(user_error(w.app.spec_show(&bob, Some(&ann.user_id)).await).contains("hasn't shared"));
    w.app.spec_visibility(&ann, "circle").await.unwrap();
    assert!(
        w.app
            .spec_show(&bob, Some(&ann.user_id))
            .await
            .unwrap()
            .text
            .contains("Founder")
    );
    assert!(
        user_error(w.app.spec_show(&eve, Some(&ann.user_id)).await)
            .contains("hasn't used career-circle here")
    );
    let own = w.app.spec_show(&ann, None).await.unwrap();
    assert_eq!(own.audience, Audience::Private);
    assert!(user_error(w.app.spec_phase(&ann, "chilling").await).contains("learning or impact"));
    w.clock.set(t("2027-03-01T00:00:00Z"));
    w.app.spec_phase(&ann, "impact").await.unwrap();
    assert!(
        w.app
            .spec_show(&ann, None)
            .await
            .unwrap()
            .text
            .contains("impact phase since 2027-03-01")
    );
    assert!(user_error(w.app.spec_visibility(&ann, "public").await).contains("private or circle"));
}

#[sqlx::test]
async fn commitments_done_twice_updates_and_streaks_count(pool: PgPool) {
    let w = world(pool, "2027-01-10T12:00:00Z");
    let ann = actor("g1", "ann");
    w.app.circle_create(&ann, create("C")).await.unwrap();
    assert!(user_error(w.app.commit_add(&ann, " ", None).await).contains("needs a title"));
    assert!(user_error(w.app.commit_add(&ann, "post", Some("daily")).await).contains("daily"));
    w.app
        .commit_add(&ann, "publish one post", None)
        .await
        .unwrap();
    assert!(
        user_error(w.app.commit_add(&ann, "Publish One Post", None).await).contains("already have")
    );
    w.app
        .commit_add(&ann, "coffee with a PM", Some("weekly"))
        .await
        .unwrap();
    assert!(
        user_error(
            w.app
                .commit_done(
                    &ann,
                    Done {
                        commitment: None,
                        link: None,
                        note: None
                    }
                )
                .await
        )
        .contains("several")
    );
    assert!(
        user_error(
            w.app
                .commit_done(
                    &ann,
                    Done {
                        commitment: Some("1"),
                        link: Some("not a link"),
                        note: None
                    }
                )
                .await
        )
        .contains("link")
    );
    let done = Done {
        commitment: Some("publish"),
        link: Some("https://example.com/a"),
        note: None,
    };
    assert!(
        w.app
            .commit_done(&ann, done)
            .await
            .unwrap()
            .text
            .contains("done for January 2027")
    );
    let again = Done {
        commitment: Some("1"),
        link: None,
        note: Some("second post"),
    };
    w.app.commit_done(&ann, again).await.unwrap();
    let rows: Vec<(String, Option<String>, Option<String>)> =
        sqlx::query_as("SELECT period, link, note FROM commitment_periods")
            .fetch_all(&w.pool)
            .await
            .unwrap();
    assert_eq!(
        rows,
        vec![(
            "2027-01".to_owned(),
            Some("https://example.com/a".to_owned()),
            Some("second post".to_owned())
        )]
    );
    w.clock.set(t("2027-02-03T12:00:00Z"));
    w.app
        .commit_done(
            &ann,
            Done {
                commitment: Some("1"),
                link: None,
                note: None,
            },
        )
        .await
        .unwrap();
    w.clock.set(t("2027-04-03T12:00:00Z"));
    let list = w.app.commit_list(&ann).await.unwrap().text;
    assert!(list.contains("streak 0, kept 2, missed 1"), "{list}");
    assert!(
        w.app
            .commit_drop(&ann, Some("coffee"))
            .await
            .unwrap()
            .text
            .contains("Dropped")
    );
    assert!(
        user_error(w.app.commit_drop(&ann, Some("coffee")).await).contains("No open commitment")
    );
}

#[sqlx::test]
async fn wins_and_opportunities_are_kept_and_listed(pool: PgPool) {
    let w = world(pool, "2027-02-10T12:00:00Z");
    let ann = actor("g1", "ann");
    w.app.circle_create(&ann, create("C")).await.unwrap();
    assert!(user_error(w.app.win_add(&ann, "", None).await).contains("What did you win"));
    assert!(user_error(w.app.win_add(&ann, "x", Some("ftp://x")).await).contains("link"));
    w.app
        .win_add(
            &ann,
            "I cut onboarding time by 30%",
            Some("https://example.com/w"),
        )
        .await
        .unwrap();
    assert!(
        w.app
            .win_list(&ann, None)
            .await
            .unwrap()
            .text
            .contains("onboarding")
    );
    assert!(
        w.app
            .win_list(&ann, Some("Q4 2026"))
            .await
            .unwrap()
            .text
            .contains("No wins")
    );
    assert!(user_error(w.app.win_list(&ann, Some("Smarch")).await).len() > 5);

    w.app
        .spec_save(
            &ann,
            &[
                ("vision".into(), "VP Product".into()),
                ("tradeoffs".into(), "No relocation\nFamily dinners".into()),
            ],
        )
        .await
        .unwrap();
    let e = |fails| Evaluate {
        name: "Acme",
        scores: [4, 4, 3, 4, 4],
        fails,
        bet: None,
    };
    let r = w.app.opportunity_evaluate(&ann, e(None)).await.unwrap();
    assert!(
        r.text.contains("3.85") && r.text.contains("closer to your 5-year vision"),
        "{}",
        r.text
    );
    let r = w
        .app
        .opportunity_evaluate(&ann, e(Some("1")))
        .await
        .unwrap();
    assert!(
        r.text.contains("fails a must-have") && r.text.contains("✗ 1. No relocation"),
        "{}",
        r.text
    );
    assert!(user_error(w.app.opportunity_evaluate(&ann, e(Some("3"))).await).contains("lists 2"));
    assert!(
        user_error(
            w.app
                .opportunity_evaluate(
                    &ann,
                    Evaluate {
                        name: "X",
                        scores: [0, 4, 3, 4, 4],
                        fails: None,
                        bet: None,
                    }
                )
                .await
        )
        .contains("1 to 5")
    );
    let list = w.app.opportunity_list(&ann).await.unwrap().text;
    assert_eq!(
        list.matches("Acme").count(),
        2,
        "serial offers are each kept: {list}"
    );
}

#[sqlx::test]
async fn me_timezone_vacation_and_export(pool: PgPool) {
    let w = world(pool, "2027-02-10T12:00:00Z");
    let ann = actor("g1", "ann");
    w.app.circle_create(&ann, create("C")).await.unwrap();
    assert!(
        user_error(w.app.me_timezone(&ann, "America/New_Yrok").await).contains("America/New_York")
    );
    assert!(
        w.app
            .me_timezone(&ann, "asia/kolkata")
            .await
            .unwrap()
            .text
            .contains("Asia/Kolkata")
    );
    assert!(
        w.app
            .zone_suggestions("europe/lon")
            .contains(&"Europe/London")
    );
    assert!(
        user_error(
            w.app
                .me_vacation(&ann, Some(t("2027-01-01T00:00:00Z")))
                .await
        )
        .contains("already passed")
    );
    w.app
        .me_vacation(&ann, Some(t("2027-03-01T00:00:00Z")))
        .await
        .unwrap();
    w.app
        .commit_add(&ann, "publish one post", None)
        .await
        .unwrap();
    w.app.win_add(&ann, "I shipped it", None).await.unwrap();
    let export = w.app.me_export(&ann).await.unwrap();
    assert_eq!(export.audience, Audience::Private);
    let names: Vec<&str> = export.files.iter().map(|f| f.filename.as_str()).collect();
    assert_eq!(
        names,
        vec!["career-circle-export.json", "career-circle-export.md"]
    );
    let json: serde_json::Value = serde_json::from_slice(&export.files[0].bytes).unwrap();
    assert_eq!(json["member"]["zone"], "Asia/Kolkata");
    assert_eq!(json["wins"][0]["text"], "I shipped it");
    assert_eq!(json["commitments"][0]["title"], "publish one post");
}

#[sqlx::test]
async fn concurrent_spec_saves_make_versions_not_errors(pool: PgPool) {
    let w = world(pool, "2027-01-10T12:00:00Z");
    let ann = actor("g1", "ann");
    w.app.circle_create(&ann, create("C")).await.unwrap();
    let saves = (0..8).map(|i| {
        let app = w.app.clone();
        let ann = ann.clone();
        tokio::spawn(async move {
            app.spec_save(&ann, &[("vision".into(), format!("take {i}"))])
                .await
        })
    });
    for s in futures::future::join_all(saves).await {
        assert!(s.unwrap().is_ok());
    }
    let versions: Vec<i32> =
        sqlx::query_scalar("SELECT version FROM spec_versions ORDER BY version")
            .fetch_all(&w.pool)
            .await
            .unwrap();
    assert_eq!(versions, (1..=8).collect::<Vec<_>>());
}

/// A check-in form never holds an earlier answer shortened: where the chat's inputs are shorter than the answer
/// (Slack's hold 3,000), the form is not opened and the member is told where to change it; where they are long
/// enough (Discord's 4,000), the form holds it whole.
#[sqlx::test]
async fn a_checkin_form_never_shortens_an_earlier_answer(pool: PgPool) {
    use career_circle_core::chat::Platform;
    let w = world(pool.clone(), "2027-04-02T12:00:00Z");
    let app = w
        .app
        .clone()
        .with_platform(&career_circle_slack::CAPABILITIES);
    let long = "x".repeat(3_500);
    for (platform, server) in [(Platform::Slack, "T1"), (Platform::Discord, "g1")] {
        let ann = career_circle_core::app::Actor {
            platform,
            ..actor(server, "ann")
        };
        let name = format!("Writers {server}");
        app.circle_create(
            &ann,
            CreateCircle {
                name: &name,
                channel_id: "c1",
                zone: Some("UTC"),
            },
        )
        .await
        .unwrap();
        let circle_id: i64 = sqlx::query_scalar(
            "SELECT c.id FROM circles c JOIN servers s ON s.id = c.server_id WHERE s.external_id = $1",
        )
        .bind(server)
        .fetch_one(&pool)
        .await
        .unwrap();
        app.form_submit(
            &ann,
            &format!("cc:checkinform:{circle_id}:2027-Q2"),
            &[("on_track".to_owned(), long.clone())],
        )
        .await
        .unwrap();
        let opened = app
            .button(&ann, &format!("cc:checkin:{circle_id}:2027-Q2"))
            .await;
        match platform {
            Platform::Slack => {
                let refused = user_error(opened);
                assert!(
                    refused.contains("3500 characters") && refused.contains("(3000)"),
                    "{refused}"
                );
            }
            _ => {
                let form = opened.unwrap().modal.expect("the form");
                let held = form
                    .inputs
                    .iter()
                    .find(|i| i.custom_id == "on_track")
                    .and_then(|i| i.value.clone())
                    .unwrap_or_default();
                assert_eq!(held.chars().count(), 3_500, "held whole");
            }
        }
    }
    let kept: Vec<String> = sqlx::query_scalar("SELECT answers::text FROM checkins")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(kept.len(), 2);
    assert!(kept.iter().all(|a| a.contains(&long)), "nothing was cut");
}
