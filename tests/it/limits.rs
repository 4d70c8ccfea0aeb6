//! Limits a community can live with (issue 12): each refuses the next item with a clear message; who may create
//! circles; no spec version when nothing changed; `/review feedback` takes a circle.

use std::sync::Arc;

use career_circle_console::recording::RecordingChat;
use career_circle_core::app::circles::CreateCircle;
use career_circle_core::app::opportunities::Evaluate;
use career_circle_core::settings::{CircleRules, CreateCircles, Limits};
use chrono::Duration;
use sqlx::PgPool;

use crate::support::Words as _;
use crate::support::{actor, t, world};

fn user_error<T: std::fmt::Debug>(r: career_circle_core::app::Result<T>) -> String {
    match r {
        Err(career_circle_core::app::Error::User(e)) => {
            career_circle_discord::render::markdown(&e.0)
        }
        other => panic!("expected a user error, got {other:?}"),
    }
}

fn create(name: &str) -> CreateCircle<'_> {
    CreateCircle {
        name,
        channel_id: "home",
        zone: Some("UTC"),
    }
}

#[sqlx::test]
async fn circles_fill_up_and_members_join_only_so_many(pool: PgPool) {
    let w = world(pool, "2027-01-10T12:00:00Z").with_limits(Limits::DEFAULT);
    let org = actor("g1", "org");
    w.app.circle_create(&org, create("Big")).await.unwrap();
    for i in 1..25 {
        w.app
            .circle_join(&actor("g1", &format!("m{i}")), "Big")
            .await
            .unwrap();
    }
    let full = user_error(w.app.circle_join(&actor("g1", "m25"), "Big").await);
    assert!(
        full.contains("**Big** is full: 25 members, the most this community allows"),
        "{full}"
    );
    assert!(full.contains("`/circle create NAME`"), "{full}");
    // Joining again is not refused for someone already in.
    assert!(
        w.app
            .circle_join(&actor("g1", "m3"), "Big")
            .await
            .unwrap()
            .text
            .contains("already in")
    );
    // Five circles per member on one server; the sixth is refused, by join and by create.
    for name in ["A", "B", "C", "D"] {
        w.app.circle_create(&org, create(name)).await.unwrap();
    }
    let w2 = actor("g1", "m1");
    w.app.circle_create(&w2, create("Sixth")).await.unwrap();
    let too_many = user_error(w.app.circle_create(&org, create("Another")).await);
    assert!(
        too_many.contains("You're in 5 circles here, the most this community allows"),
        "{too_many}"
    );
    assert!(user_error(w.app.circle_join(&org, "Sixth").await).contains("5 circles"));
    // Another server is another count.
    w.app
        .circle_create(&actor("g2", "org"), create("Elsewhere"))
        .await
        .unwrap();
}

#[sqlx::test]
async fn commitments_wins_opportunities_and_revisions_stop_at_their_limits(pool: PgPool) {
    let limits = Limits {
        wins_per_quarter: 3,
        opportunities_per_quarter: 2,
        checkin_revisions: 2,
        ..Limits::DEFAULT
    };
    let w = world(pool, "2027-03-25T00:00:00Z").with_limits(limits);
    let a = w.circle_with_members("g1", "UTC", &["UTC"]).await;
    let ann = &a[0];
    // 20 open commitments (one made with the circle); the 21st is refused.
    for i in 1..20 {
        w.app
            .commit_add(ann, &format!("habit {i}"), None)
            .await
            .unwrap();
    }
    let e = user_error(w.app.commit_add(ann, "one too many", None).await);
    assert!(
        e.contains("You have 20 open commitments, the most this community allows"),
        "{e}"
    );
    assert!(e.contains("`/commit drop`"), "{e}");
    // Wins per quarter.
    for i in 0..3 {
        w.app.win_add(ann, &format!("win {i}"), None).await.unwrap();
    }
    let e = user_error(w.app.win_add(ann, "win 3", None).await);
    assert!(
        e.contains(
            "You've recorded 3 wins in Q1 2027, the most this community allows in a quarter"
        ),
        "{e}"
    );
    assert!(e.contains("room again from Q2 2027"), "{e}");
    // Opportunities per quarter.
    let evaluate = |name: &'static str| Evaluate {
        name,
        scores: [3, 3, 3, 3, 3],
        fails: None,
        bet: None,
    };
    w.app
        .opportunity_evaluate(ann, evaluate("A"))
        .await
        .unwrap();
    w.app
        .opportunity_evaluate(ann, evaluate("B"))
        .await
        .unwrap();
    let e = user_error(w.app.opportunity_evaluate(ann, evaluate("C")).await);
    assert!(e.contains("2 opportunities in Q1 2027"), "{e}");
    // A new quarter has room again.
    w.clock.set(t("2027-04-02T00:00:00Z"));
    w.app.win_add(ann, "win in April", None).await.unwrap();
    w.app
        .opportunity_evaluate(ann, evaluate("D"))
        .await
        .unwrap();
    // Check-in revisions: the first answer and two changes; the third change is refused.
    w.app.checkin_command(ann, None, "first").await.unwrap();
    w.app.checkin_command(ann, None, "second").await.unwrap();
    w.app.checkin_command(ann, None, "third").await.unwrap();
    let e = user_error(w.app.checkin_command(ann, None, "fourth").await);
    assert!(
        e.contains("has been changed 2 times, the most this community allows"),
        "{e}"
    );
    let text: String = sqlx::query_scalar("SELECT answers->>'text' FROM checkins")
        .fetch_one(&w.pool)
        .await
        .unwrap();
    assert_eq!(text, "third");
}

#[sqlx::test]
async fn only_managers_create_circles_when_the_community_says_so(pool: PgPool) {
    let w = world(pool, "2027-01-10T12:00:00Z").with_circle_rules(CircleRules {
        create: CreateCircles::Managers,
    });
    let member = actor("g1", "ann");
    let e = user_error(w.app.circle_create(&member, create("Mine")).await);
    assert!(e.contains("Manage Server"), "{e}");
    let mut manager = actor("g1", "boss");
    manager.manager = true;
    w.app.circle_create(&manager, create("Mine")).await.unwrap();
    // Anyone may still join.
    w.app.circle_join(&member, "Mine").await.unwrap();
}

#[sqlx::test]
async fn spec_phase_and_visibility_save_no_version_when_nothing_changed(pool: PgPool) {
    let w = world(pool, "2027-01-10T12:00:00Z");
    let a = w.circle_with_members("g1", "UTC", &["UTC"]).await;
    let ann = &a[0];
    w.app
        .spec_save(ann, &[("vision".into(), "Head of product".into())])
        .await
        .unwrap();
    let versions = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM spec_versions")
            .fetch_one(&w.pool)
            .await
            .unwrap()
    };
    assert_eq!(versions().await, 1);
    for _ in 0..3 {
        w.app.spec_phase(ann, "learning").await.unwrap();
        w.app.spec_visibility(ann, "private").await.unwrap();
    }
    assert_eq!(versions().await, 1, "the same phase and visibility again");
    w.app.spec_phase(ann, "impact").await.unwrap();
    w.app.spec_visibility(ann, "circle").await.unwrap();
    assert_eq!(versions().await, 3);
    w.app.spec_visibility(ann, "circle").await.unwrap();
    assert_eq!(versions().await, 3);
}

#[sqlx::test]
async fn review_feedback_takes_a_circle(pool: PgPool) {
    let w = world(pool, "2027-03-25T00:00:00Z");
    let org = actor("g1", "org");
    let ann = actor("g1", "ann");
    for name in ["Writers", "Builders"] {
        w.app.circle_create(&org, create(name)).await.unwrap();
        w.app.circle_join(&ann, name).await.unwrap();
    }
    let chat = Arc::new(RecordingChat::new());
    w.drive(t("2027-04-12T10:00:00Z"), Duration::hours(1), &chat)
        .await;
    let e = user_error(w.app.review_feedback(&ann, None, None).await);
    assert!(e.contains("several circles"), "{e}");
    let r = w
        .app
        .review_feedback(&ann, None, Some("Builders"))
        .await
        .unwrap();
    assert!(
        r.text
            .contains("No feedback for you in the Q2 2027 review yet."),
        "{}",
        r.text
    );
}
