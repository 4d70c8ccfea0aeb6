//! Scratch databases (simulate, the demo, bench) are copies of one migrated template, so they cost a copy rather
//! than a migration run, and two made at once both come out whole.

use career_circle_core::store::{self, scratch::Commits, scratch::ScratchDb};
use sqlx::{Connection, PgConnection};

fn server() -> String {
    std::env::var("DATABASE_URL").expect("scripts/test sets DATABASE_URL")
}

#[tokio::test]
async fn scratch_databases_made_at_once_are_migrated_copies_of_one_template() {
    let url = server();
    let (relaxed, durable) = tokio::join!(
        ScratchDb::create(&url, "cc_scratchtest", Commits::Relaxed),
        ScratchDb::create(&url, "cc_scratchtest", Commits::Durable),
    );
    let (relaxed, durable) = (relaxed.unwrap(), durable.unwrap());
    let every = store::MIGRATOR.iter().count();
    for db in [&relaxed, &durable] {
        let applied = store::applied_migrations(&db.pool).await.unwrap();
        assert_eq!(applied.len(), every, "{}", db.url);
    }
    let commit_setting = |pool: sqlx::PgPool| async move {
        sqlx::query_scalar!(r#"SELECT current_setting('synchronous_commit') AS "s!""#)
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    assert_eq!(commit_setting(relaxed.pool.clone()).await, "off");
    assert_eq!(commit_setting(durable.pool.clone()).await, "on");

    // A template is there, marked as one, and closed to connections (a connected session would stop every copy).
    let mut admin = PgConnection::connect(&url).await.unwrap();
    let templates = sqlx::query!(
        r#"SELECT datname::text AS "name!", datallowconn FROM pg_database
           WHERE starts_with(datname::text, 'cc_scratch_template_') AND datistemplate"#
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    // (Builds with other migrations sharing this server may keep a template of their own for a while.)
    assert!(!templates.is_empty());
    for t in &templates {
        assert!(!t.datallowconn, "{}", t.name);
    }

    let names: Vec<String> = [&relaxed, &durable]
        .iter()
        .map(|db| db.url.rsplit('/').next().unwrap().to_owned())
        .collect();
    relaxed.drop().await.unwrap();
    durable.drop().await.unwrap();
    let left = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM pg_database WHERE datname::text = ANY($1)"#,
        &names
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert_eq!(left, 0, "dropped: {names:?}");
}
