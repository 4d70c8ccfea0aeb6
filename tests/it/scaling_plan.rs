//! The plan past one database (docs/scaling.md) checked against the schema: every table is in the plan, and each
//! tenant table's path to its server exists, so the Citus migration has the columns and keys it builds on.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::PgPool;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Reach {
    Itself,
    ServerId,
    Through { column: String, parent: String },
    NoServer,
}

/// The "Tables" table of docs/scaling.md: table → how it reaches its server.
fn plan() -> BTreeMap<String, Reach> {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/scaling.md")).unwrap();
    let section = doc.split("### Tables").nth(1).expect("a Tables section");
    let ticked = |cell: &str| -> Vec<String> {
        cell.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect()
    };
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let table = ticked(cells[1]).remove(0);
            let names = ticked(cells[2]);
            let reach = if cells[2] == "itself" {
                Reach::Itself
            } else if cells[2].starts_with("no server") {
                Reach::NoServer
            } else if names == ["server_id"] {
                Reach::ServerId
            } else if names.len() == 2 && cells[2].contains('→') {
                Reach::Through {
                    column: names[0].clone(),
                    parent: names[1].clone(),
                }
            } else {
                panic!("cannot read the plan's row for {table}: {l}")
            };
            (table, reach)
        })
        .collect()
}

async fn columns(pool: &PgPool, table: &str) -> BTreeSet<String> {
    sqlx::query_scalar(
        "SELECT column_name::text FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1",
    )
    .bind(table)
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .collect()
}

/// (column, referenced table) of every foreign key on the table.
async fn foreign_keys(pool: &PgPool, table: &str) -> BTreeSet<(String, String)> {
    sqlx::query_as::<_, (String, String)>(
        "SELECT a.attname::text, r.relname::text
         FROM pg_constraint c
         JOIN pg_class t ON t.oid = c.conrelid
         JOIN pg_class r ON r.oid = c.confrelid
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
         WHERE c.contype = 'f' AND t.relname = $1",
    )
    .bind(table)
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .collect()
}

#[sqlx::test]
async fn every_table_has_the_path_to_its_server_that_the_citus_plan_builds_on(pool: PgPool) {
    let plan = plan();
    assert!(plan.len() >= 20, "the plan lists the tables: {plan:?}");
    let tables: BTreeSet<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
           AND c.relname <> '_sqlx_migrations'",
    )
    .fetch_all(&pool)
    .await
    .unwrap()
    .into_iter()
    .collect();
    let planned: BTreeSet<String> = plan.keys().cloned().collect();
    assert_eq!(
        tables, planned,
        "docs/scaling.md's Tables section and the schema differ: plan a new table there"
    );

    let tenant: BTreeSet<&String> = plan
        .iter()
        .filter(|(_, r)| **r != Reach::NoServer)
        .map(|(t, _)| t)
        .collect();
    for (table, reach) in &plan {
        let cols = columns(&pool, table).await;
        let fks = foreign_keys(&pool, table).await;
        match reach {
            Reach::Itself => assert_eq!(table, "servers"),
            Reach::ServerId => {
                assert!(cols.contains("server_id"), "{table} has server_id");
                assert!(
                    fks.contains(&("server_id".to_owned(), "servers".to_owned())),
                    "{table}.server_id references servers: {fks:?}"
                );
            }
            Reach::Through { column, parent } => {
                assert!(cols.contains(column), "{table} has {column}");
                assert!(
                    fks.contains(&(column.clone(), parent.clone())),
                    "{table}.{column} references {parent}: {fks:?}"
                );
                // The chain of parents ends at the server.
                let mut at = parent.clone();
                for _ in 0..plan.len() {
                    match &plan[&at] {
                        Reach::Through { parent, .. } => at = parent.clone(),
                        Reach::ServerId | Reach::Itself => break,
                        Reach::NoServer => panic!("{table} reaches {at}, which has no server"),
                    }
                }
                assert!(
                    matches!(plan[&at], Reach::ServerId | Reach::Itself),
                    "{table}'s parents end at a server"
                );
            }
            Reach::NoServer => {
                // A reference or coordinator-local table must not point into a tenant's rows.
                for (col, parent) in &fks {
                    assert!(
                        !tenant.contains(parent),
                        "{table}.{col} references the tenant table {parent}"
                    );
                }
                assert!(!cols.contains("server_id"), "{table} names a server");
            }
        }
    }
}
