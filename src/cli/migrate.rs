//! `career-circle migrate`

use career_circle_core::settings::load_or_exit_code as load_settings;
use career_circle_core::store;

pub async fn main() -> u8 {
    let settings = match load_settings() {
        Ok(s) => s,
        Err(code) => return code,
    };
    career_circle_core::telemetry::init(&settings.log);
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
