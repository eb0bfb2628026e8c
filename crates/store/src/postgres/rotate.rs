//! Key rotation on PostgreSQL (`rotate.rs` tells the whole story): refused while a server's
//! membership row is live, every row checked before any is changed, then each row resealed in
//! a transaction of its own, and the table rebuilt without the rows' old versions.

use sqlx::Row as _;

use super::PostgresStore;
use crate::rotate::{RotateError, RotationReport, reseal_row};
use crate::seal::Sealer;

impl PostgresStore {
    /// Reseals the secret values of every pipeline with `new`, opening them with `current`.
    /// Open the store without a sealer for this: a database half rotated holds both keys.
    pub async fn rotate_key(
        &self,
        current: &Sealer,
        new: &Sealer,
    ) -> Result<RotationReport, RotateError> {
        self.refuse_while_served("rotating the key of").await?;
        // Every row must open before the first is changed.
        let rows = self
            .read_rows(
                "pipelines",
                "SELECT pipeline_id, data FROM pipelines ORDER BY pipeline_id",
                None,
            )
            .await?;
        let mut ids = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = row.get(0);
            let data: String = row.get(1);
            reseal_row(&id, &data, current, new).map_err(|why| self.refused(&id, why))?;
            ids.push(id);
        }
        drop(rows);
        let mut report = RotationReport::default();
        for id in ids {
            if let Some(found) = self.reseal_one(&id, current, new).await? {
                report.add(found);
            }
        }
        // A server that started meanwhile may hold the current key.
        self.refuse_while_served("the key was rotated, but a server started meanwhile on")
            .await?;
        // The dead row versions, sealed with the old key, go with the table's old files.
        self.within("cannot vacuum", async {
            sqlx::query("VACUUM FULL pipelines")
                .execute(&self.pool)
                .await
                .map_err(|e| self.error("cannot vacuum", &e))
        })
        .await?;
        Ok(report)
    }

    /// Reseals one pipeline's row under its lock; `None` when it was deleted meanwhile.
    async fn reseal_one(
        &self,
        pipeline_id: &str,
        current: &Sealer,
        new: &Sealer,
    ) -> Result<Option<crate::seal::Resealing>, RotateError> {
        let doing = "cannot reseal a pipeline in";
        let failed = |e: sqlx::Error| self.error(doing, &e);
        let within = self.within(doing, async {
            let mut tx = self.pool.begin().await.map_err(failed)?;
            let data: Option<String> =
                sqlx::query_scalar("SELECT data FROM pipelines WHERE pipeline_id = $1 FOR UPDATE")
                    .bind(pipeline_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(failed)?;
            let Some(data) = data else {
                return Ok(Ok(None));
            };
            let (resealed, found) = match reseal_row(pipeline_id, &data, current, new) {
                Ok(outcome) => outcome,
                Err(why) => return Ok(Err(self.refused(pipeline_id, why))),
            };
            if let Some(data) = resealed {
                sqlx::query("UPDATE pipelines SET data = $1 WHERE pipeline_id = $2")
                    .bind(data)
                    .bind(pipeline_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(failed)?;
            }
            tx.commit().await.map_err(failed)?;
            Ok(Ok(Some(found)))
        });
        // Database errors and the timeout come out as a StoreError; a refusal inside.
        within.await?
    }

    /// Fails while a server's membership row is live (every server sharing the database keeps
    /// one, and deletes it when it stops).
    async fn refuse_while_served(&self, doing: &str) -> Result<(), RotateError> {
        let rows = self
            .read_rows(
                "the servers",
                "SELECT server_id, url FROM servers WHERE expires_at > clock_timestamp() \
                 ORDER BY server_id",
                None,
            )
            .await?;
        if rows.is_empty() {
            return Ok(());
        }
        let servers: Vec<String> = rows
            .iter()
            .map(|row| {
                let (id, url): (String, String) = (row.get(0), row.get(1));
                format!("{id} ({url})")
            })
            .collect();
        Err(RotateError::InUse(format!(
            "{doing} {}: {} server(s) use it: {}. Stop every server sharing the database, then \
             rotate the key (a server that was killed is listed until its membership expires)",
            self.location,
            servers.len(),
            servers.join(", ")
        )))
    }

    fn refused(&self, pipeline_id: &str, why: String) -> RotateError {
        RotateError::Refused {
            pipeline: pipeline_id.to_owned(),
            location: self.location.clone(),
            why,
        }
    }
}
