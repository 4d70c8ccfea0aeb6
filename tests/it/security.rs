//! Privacy and isolation: deletion leaves nothing behind, nothing crosses guilds, nobody acts as another.

use std::sync::Arc;

use career_circle_console::recording::RecordingChat;
use career_circle_core::app::circles::CreateCircle;
use career_circle_core::chat::ThreadRef;
use chrono::Duration;
use sqlx::PgPool;

use crate::support::Words as _;
use crate::support::{actor, t, world};

/// Every (table, column) of the schema holding text, JSON or ids.
async fn columns(pool: &PgPool) -> Vec<(String, String, String)> {
    sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'
           AND data_type IN ('text', 'jsonb', 'bigint')",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Every column that still names a deleted member: their member ids in the id columns that hold members, their
/// platform user id or `marker` in any text or JSON.
pub(crate) async fn left_behind(
    pool: &PgPool,
    marker: &str,
    user_id: &str,
    member_ids: &[i64],
) -> Vec<String> {
    let mut found = Vec::new();
    let personal = [
        "member_id",
        "author_id",
        "subject_id",
        "reviewer_id",
        "reviewee_id",
    ];
    for (table, column, kind) in columns(pool).await {
        // Identifiers come from information_schema and are quoted; this scan exists only in tests.
        let n: i64 = if kind == "bigint" {
            if !(personal.contains(&column.as_str()) || (table == "members" && column == "id")) {
                continue;
            }
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT count(*) FROM \"{table}\" WHERE \"{column}\" = ANY($1)"
            )))
            .bind(member_ids)
            .fetch_one(pool)
            .await
            .unwrap()
        } else {
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT count(*) FROM \"{table}\" WHERE \"{column}\"::text LIKE '%' || $1 || '%' OR \"{column}\"::text = $2"
            )))
            .bind(marker)
            .bind(user_id)
            .fetch_one(pool)
            .await
            .unwrap()
        };
        if n > 0 {
            found.push(format!("{table}.{column}: {n}"));
        }
    }
    found
}

#[sqlx::test]
async fn me_delete_leaves_no_personal_row_anywhere(pool: PgPool) {
    let w = world(pool, "2027-03-25T00:00:00Z");
    let actors = w
        .circle_with_members("g1", "UTC", &["UTC", "UTC", "UTC"])
        .await;
    let (keep, gone) = (&actors[0], &actors[1]);
    // The leaver also has a record on a second server.
    w.app
        .circle_create(
            &actor("g2", &gone.user_id),
            CreateCircle {
                name: "Elsewhere",
                channel_id: "x",
                zone: None,
            },
        )
        .await
        .unwrap();
    let marker = "ZEBRA-7731";
    w.app
        .spec_save(
            gone,
            &[
                ("vision".into(), format!("{marker} vision")),
                ("tradeoffs".into(), format!("{marker} no travel")),
            ],
        )
        .await
        .unwrap();
    w.app
        .spec_save(gone, &[("vision".into(), format!("{marker} vision 2"))])
        .await
        .unwrap();
    w.app.spec_visibility(gone, "circle").await.unwrap();
    w.app
        .win_add(gone, &format!("{marker} win"), None)
        .await
        .unwrap();
    w.app
        .opportunity_evaluate(
            gone,
            career_circle_core::app::opportunities::Evaluate {
                name: marker,
                scores: [3, 3, 3, 3, 3],
                fails: None,
                bet: None,
            },
        )
        .await
        .unwrap();
    let chat = Arc::new(RecordingChat::new());
    w.drive(t("2027-04-05T10:00:00Z"), Duration::hours(1), &chat)
        .await;
    w.app
        .checkin_command(gone, None, &format!("{marker} first"))
        .await
        .unwrap();
    w.app
        .checkin_command(gone, None, &format!("{marker} edited"))
        .await
        .unwrap();
    w.app
        .checkin_command(keep, None, "keeper's check-in")
        .await
        .unwrap();
    w.app
        .commit_done(
            gone,
            career_circle_core::app::commitments::Done {
                commitment: None,
                link: None,
                note: Some(marker),
            },
        )
        .await
        .unwrap();
    w.drive(t("2027-04-12T10:00:00Z"), Duration::hours(1), &chat)
        .await;
    let (thread_row, thread): (i64, String) = sqlx::query_as(
        "SELECT t.id, t.thread_channel_id FROM review_threads t JOIN circles c ON c.id = t.circle_id WHERE c.name = 'Circle'",
    )
    .fetch_one(&w.pool)
    .await
    .unwrap();
    let posts: Vec<(i64, String)> = sqlx::query_as(
        "SELECT member_id, message_id FROM review_posts WHERE review_thread_id = $1",
    )
    .bind(thread_row)
    .fetch_all(&w.pool)
    .await
    .unwrap();
    let gone_id = w.member_id(gone).await;
    let keep_id = w.member_id(keep).await;
    let post_of = |m: i64| posts.iter().find(|(id, _)| *id == m).unwrap().1.clone();
    assert!(
        w.app
            .channel_message(
                gone,
                &ThreadRef::channel(thread.clone()),
                "fb-a",
                &format!("{marker} feedback"),
                Some(&post_of(keep_id)),
                &[]
            )
            .await
            .unwrap()
    );
    assert!(
        w.app
            .channel_message(
                keep,
                &ThreadRef::channel(thread.clone()),
                "fb-b",
                "feedback for the leaver",
                Some(&post_of(gone_id)),
                &[]
            )
            .await
            .unwrap()
    );

    let all_ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM members WHERE platform_user_id = $1")
            .bind(&gone.user_id)
            .fetch_all(&w.pool)
            .await
            .unwrap();
    assert_eq!(all_ids.len(), 2, "one member record per server");

    let confirm = w.app.me_delete();
    assert_eq!(confirm.buttons.len(), 2, "asks first");
    let r = w
        .app
        .button(gone, &confirm.buttons[0].custom_id)
        .await
        .unwrap();
    assert!(r.text.contains("gone"), "{}", r.text);

    let found = left_behind(&w.pool, marker, &gone.user_id, &all_ids).await;
    assert!(found.is_empty(), "left behind: {found:?}");
    // The others' data is untouched.
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM checkins")
        .fetch_one(&w.pool)
        .await
        .unwrap();
    assert_eq!(kept, 1);
    // And the summary at close no longer knows the leaver.
    w.drive(t("2027-04-27T10:00:00Z"), Duration::hours(1), &chat)
        .await;
    let summary = chat
        .sent()
        .into_iter()
        .find(|s| s.message.text.contains("review: summary"))
        .expect("summary");
    assert!(
        !summary.message.text.contains(&gone.display_name),
        "{}",
        summary.message.text
    );
}

#[sqlx::test]
async fn nothing_crosses_guilds(pool: PgPool) {
    let w = world(pool, "2027-03-25T00:00:00Z");
    let a = actor("guild-a", "ann");
    let b = actor("guild-b", "bob");
    w.app
        .circle_create(
            &a,
            CreateCircle {
                name: "Alpha",
                channel_id: "c",
                zone: None,
            },
        )
        .await
        .unwrap();
    w.app
        .spec_save(&a, &[("vision".into(), "secret vision".into())])
        .await
        .unwrap();
    w.app.spec_visibility(&a, "circle").await.unwrap();
    w.app
        .checkin_command(&a, None, "secret check-in")
        .await
        .unwrap();
    // Bob, in another guild, sees no circle, cannot join it, cannot read Ann's spec or check-in.
    assert!(
        w.app
            .circle_list(&b)
            .await
            .unwrap()
            .text
            .contains("No circles here")
    );
    assert!(w.app.circle_join(&b, "Alpha").await.is_err());
    assert!(w.app.spec_show(&b, Some(&a.user_id)).await.is_err());
    assert!(
        w.app
            .checkin_show(&b, Some(&a.user_id), None)
            .await
            .is_err()
    );
    let export = w.app.me_export(&b).await.unwrap();
    let text = String::from_utf8(export.files[0].bytes.clone()).unwrap();
    assert!(!text.contains("secret"), "{text}");
    // The same person on two servers is two members: Ann's record in guild B is empty.
    let ann_b = actor("guild-b", "ann");
    assert!(w.app.spec_show(&ann_b, None).await.is_err());
}

#[sqlx::test]
async fn a_member_cannot_act_as_another(pool: PgPool) {
    let w = world(pool, "2027-03-25T00:00:00Z");
    let actors = w.circle_with_members("g1", "UTC", &["UTC", "UTC"]).await;
    let chat = Arc::new(RecordingChat::new());
    w.drive(t("2027-04-01T10:00:00Z"), Duration::hours(1), &chat)
        .await;
    // Bob presses the Done button from Ann's nudge (forwarded, or crafted): it acts on nothing of Ann's.
    let ann_dm = career_circle_core::chat::Destination::Dm {
        user_id: actors[0].user_id.clone(),
    };
    let nudge = chat
        .sent()
        .into_iter()
        .find(|s| s.to == ann_dm && !s.message.buttons.is_empty())
        .unwrap();
    let err = w
        .app
        .button(&actors[1], &nudge.message.buttons[0].custom_id)
        .await
        .unwrap_err();
    assert!(
        err.to_user_text().contains("someone else"),
        "{}",
        err.to_user_text()
    );
    let marked: i64 = sqlx::query_scalar("SELECT count(*) FROM commitment_periods")
        .fetch_one(&w.pool)
        .await
        .unwrap();
    assert_eq!(marked, 0);
    // The check-in form of a circle Bob is not in refuses him too.
    let outsider = actor("g1", "outsider");
    assert!(
        w.app
            .form_submit(
                &outsider,
                "cc:checkinform:1:2027-Q2",
                &[("went_well".into(), "x".into())]
            )
            .await
            .is_err()
    );
}

/// SQL is written in `sqlx::query!`-family macros (checked and parameterised); the only runtime-built statements are
/// the scratch databases' DDL (one function, naming only databases the program names itself), and one fixed query on sqlx's own
/// migrations table.
#[test]
fn no_string_built_sql_in_the_program() {
    let mut offenders = Vec::new();
    let mut stack = vec![
        std::path::PathBuf::from("src"),
        std::path::PathBuf::from("crates"),
    ];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (n, line) in text.lines().enumerate() {
                let runtime = [
                    "sqlx::query(",
                    "sqlx::query_as(",
                    "sqlx::query_scalar(",
                    "AssertSqlSafe",
                ]
                .iter()
                .any(|p| line.contains(p));
                if runtime {
                    offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                }
            }
        }
    }
    offenders.sort();
    let allowed = |o: &String| {
        (o.starts_with("crates/core/src/store/scratch.rs")
            && o.contains("sqlx::query(sqlx::AssertSqlSafe(statement))"))
            || (o.starts_with("crates/core/src/store/mod.rs")
                && o.contains("SELECT version FROM _sqlx_migrations"))
    };
    let unexpected: Vec<&String> = offenders.iter().filter(|o| !allowed(o)).collect();
    assert!(unexpected.is_empty(), "runtime-built SQL: {unexpected:#?}");
    assert_eq!(offenders.len(), 2, "{offenders:#?}");
}
