//! `career-circle migrate`

use crate::cli::load_settings;
use crate::store;

pub async fn main() -> u8 {
    let settings = match load_settings() {
        Ok(s) => s,
        Err(code) => return code,
    };
    crate::telemetry::init(&settings.log);
    let pool = match store::connect(
        settings.database_url(),
        2,
        settings.database.connect_timeout,
    )
    .await
    {
        Ok(p) => p,
        Err(e) => {
            eprintln!(
                "error: cannot reach the database: {e}. `career-circle doctor` helps find out why."
            );
            return 1;
        }
    };
    match store::migrate(&pool).await {
        Ok(()) => {
            println!(
                "database is up to date ({} migrations)",
                store::MIGRATOR.iter().count()
            );
            0
        }
        Err(e) => {
            eprintln!("error: migration failed: {e}");
            1
        }
    }
}
