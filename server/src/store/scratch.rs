//! A private PostgreSQL schema for one test or benchmark run, so runs sharing one database (the `test`
//! database of the CI machine) never see each other's tables or migration history.
//!
//! [`ScratchSchema::url`] is the base URL with `options=-c search_path=<schema>`, which a [`super::Store`]
//! or a `tierboard serve --database-url` process uses like any other URL. The schema is dropped by
//! [`ScratchSchema::drop_now`], or on drop (best effort, also when a test panics).

use sqlx::Connection;

use crate::error::Result;
use crate::ids::InstanceId;

#[derive(Debug)]
pub struct ScratchSchema {
    base: String,
    name: String,
    url: String,
    dropped: bool,
}

impl ScratchSchema {
    /// Creates `tb_scratch_<random>` in the database at `base_url` (`postgres://...`).
    pub async fn create(base_url: &str) -> Result<ScratchSchema> {
        sqlx::any::install_default_drivers();
        let name = format!("tb_scratch_{}", InstanceId::random());
        let mut conn = sqlx::AnyConnection::connect(base_url).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        let sep = if base_url.contains('?') { '&' } else { '?' };
        let url = format!("{base_url}{sep}options=-c%20search_path%3D{name}");
        Ok(ScratchSchema {
            base: base_url.to_string(),
            name,
            url,
            dropped: false,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drops the schema and everything in it.
    pub async fn drop_now(mut self) -> Result<()> {
        self.dropped = true;
        drop_schema(&self.base, &self.name).await
    }
}

async fn drop_schema(base: &str, name: &str) -> Result<()> {
    let mut conn = sqlx::AnyConnection::connect(base).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS {name} CASCADE"
    )))
    .execute(&mut conn)
    .await?;
    conn.close().await?;
    Ok(())
}

impl Drop for ScratchSchema {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        // Drop cannot await: run the statement on a thread with its own small runtime.
        let (base, name) = (self.base.clone(), self.name.clone());
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(drop_schema(&base, &name)).ok()
        })
        .join();
        if !matches!(done, Ok(Some(()))) {
            tracing::warn!(schema = %self.name, "could not drop scratch schema");
        }
    }
}
