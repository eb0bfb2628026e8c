//! [`Cluster`] for servers sharing one PostgreSQL database (tables of
//! `migrations/postgres/0002_cluster.sql`).
//!
//! * Every expiry is compared with `clock_timestamp()`, the database's clock at the statement,
//!   not `now()`, which is fixed at the start of a transaction.
//! * A fenced commit locks the lease rows it relies on `FOR SHARE` in its transaction, after the
//!   pipeline rows, so a takeover (which updates the lease row) waits for a commit in flight
//!   and a commit after the takeover sees the new holder and fails.
//! * Wake-ups go through `NOTIFY` on one channel with the schema as payload (channels are per
//!   database, and tests put many schemas in one), sent inside the commit's transaction, so a
//!   listener hears of work only once it is committed.

use std::time::Duration;

use async_trait::async_trait;
use sluice_engine::cluster::NOBODY;
use sluice_engine::store::StoreResult;
use sluice_engine::{ChangeSet, Cluster, Fence, Lease, Member, StoreError};
use sqlx::PgConnection;
use sqlx::postgres::PgListener;

use super::{Failed, Plan, PostgresStore};

/// The channel commits notify when attempts wait for a runner.
pub(super) const WORK_CHANNEL: &str = "sluice_work";

/// Members that stopped heartbeating this long ago are removed.
const FORGET_MEMBERS_AFTER: &str = "1 day";

fn millis(ttl: Duration) -> f64 {
    ttl.as_secs_f64() * 1000.0
}

/// Fails the commit unless `fence` holds a live lease of each of `ids`.
pub(super) async fn check_fence(
    store: &PostgresStore,
    tx: &mut PgConnection,
    ids: &[&str],
    fence: &Fence,
) -> Result<(), Failed> {
    // One pipeline at a time, in id order (the order every fenced commit locks them in), each
    // by its key: given `owner` among several ids, PostgreSQL reads the owner's index, which
    // holds every lease of the server, on each commit.
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    for id in sorted {
        let held: Option<(String, i64, bool)> = sqlx::query_as(
            "SELECT owner, epoch, expires_at > clock_timestamp() FROM pipeline_leases \
             WHERE pipeline_id = $1 FOR SHARE",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| store.failed("cannot check the leases in", &e))?;
        let holds = held.is_some_and(|(owner, epoch, live)| {
            live && owner == fence.owner && epoch == fence.epoch
        });
        if !holds {
            return Err(Failed::Final(StoreError::Conflict(format!(
                "pipeline {id}: this server's lease (epoch {}) lapsed or was taken over, so it \
                 may no longer write it",
                fence.epoch
            ))));
        }
    }
    Ok(())
}

/// Notifies listeners when the commit leaves attempts waiting for a runner.
pub(super) async fn notify_work(
    store: &PostgresStore,
    tx: &mut PgConnection,
    plan: &Plan<'_>,
) -> Result<(), Failed> {
    let waiting = plan
        .attempts
        .iter()
        .any(|a| a.status == sluice_model::Status::WaitingForRunner);
    if waiting {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(WORK_CHANNEL)
            .bind(&store.lock_key)
            .execute(&mut *tx)
            .await
            .map_err(|e| store.failed("cannot notify through", &e))?;
    }
    Ok(())
}

impl PostgresStore {
    async fn run<T>(
        &self,
        doing: &str,
        f: impl AsyncFnOnce(&mut PgConnection) -> Result<T, sqlx::Error>,
    ) -> StoreResult<T> {
        self.within(doing, async {
            let mut connection = self
                .pool
                .acquire()
                .await
                .map_err(|e| self.error(doing, &e))?;
            f(&mut connection).await.map_err(|e| self.error(doing, &e))
        })
        .await
    }
}

#[async_trait]
impl Cluster for PostgresStore {
    async fn heartbeat(&self, member: &Member, ttl: Duration) -> StoreResult<Vec<Member>> {
        self.run("cannot record this server in", async |c| {
            sqlx::query(
                "INSERT INTO servers (server_id, url, expires_at) \
                 VALUES ($1, $2, clock_timestamp() + $3 * interval '1 millisecond') \
                 ON CONFLICT (server_id) DO UPDATE SET url = excluded.url, \
                 expires_at = excluded.expires_at",
            )
            .bind(&member.server_id)
            .bind(&member.url)
            .bind(millis(ttl))
            .execute(&mut *c)
            .await?;
            sqlx::query(&format!(
                "DELETE FROM servers WHERE expires_at < clock_timestamp() - interval '{FORGET_MEMBERS_AFTER}'"
            ))
            .execute(&mut *c)
            .await?;
            let rows: Vec<(String, String)> = sqlx::query_as(
                "SELECT server_id, url FROM servers WHERE expires_at > clock_timestamp() \
                 ORDER BY server_id",
            )
            .fetch_all(&mut *c)
            .await?;
            Ok(rows
                .into_iter()
                .map(|(server_id, url)| Member { server_id, url })
                .collect())
        })
        .await
    }

    async fn leave(&self, server_id: &str) -> StoreResult<()> {
        self.run("cannot remove this server from", async |c| {
            sqlx::query(
                "UPDATE pipeline_leases SET expires_at = clock_timestamp() - interval '1 millisecond' \
                 WHERE owner = $1",
            )
                .bind(server_id)
                .execute(&mut *c)
                .await?;
            sqlx::query("DELETE FROM servers WHERE server_id = $1")
                .bind(server_id)
                .execute(&mut *c)
                .await?;
            Ok(())
        })
        .await
    }

    async fn leases(&self) -> StoreResult<Vec<Lease>> {
        self.run("cannot read the leases in", async |c| {
            let rows: Vec<(String, String, i64, bool)> = sqlx::query_as(
                "SELECT pipeline_id, owner, epoch, expires_at > clock_timestamp() \
                 FROM pipeline_leases ORDER BY pipeline_id",
            )
            .fetch_all(&mut *c)
            .await?;
            Ok(rows.into_iter().map(lease).collect())
        })
        .await
    }

    async fn lease(&self, pipeline_id: &str) -> StoreResult<Option<Lease>> {
        self.run("cannot read the lease in", async |c| {
            let row: Option<(String, String, i64, bool)> = sqlx::query_as(
                "SELECT pipeline_id, owner, epoch, expires_at > clock_timestamp() \
                 FROM pipeline_leases WHERE pipeline_id = $1",
            )
            .bind(pipeline_id)
            .fetch_optional(&mut *c)
            .await?;
            Ok(row.map(lease))
        })
        .await
    }

    async fn acquire(
        &self,
        pipeline_id: &str,
        owner: &str,
        ttl: Duration,
    ) -> StoreResult<Option<Fence>> {
        self.run("cannot take a lease in", async |c| {
            let epoch: Option<i64> = sqlx::query_scalar(
                "INSERT INTO pipeline_leases AS l (pipeline_id, owner, epoch, expires_at) \
                 VALUES ($1, $2, 1, clock_timestamp() + $3 * interval '1 millisecond') \
                 ON CONFLICT (pipeline_id) DO UPDATE SET \
                     epoch = CASE WHEN l.owner = excluded.owner \
                                   AND l.expires_at > clock_timestamp() \
                                  THEN l.epoch ELSE l.epoch + 1 END, \
                     owner = excluded.owner, expires_at = excluded.expires_at \
                 WHERE l.owner = excluded.owner OR l.expires_at <= clock_timestamp() \
                 RETURNING epoch",
            )
            .bind(pipeline_id)
            .bind(owner)
            .bind(millis(ttl))
            .fetch_optional(&mut *c)
            .await?;
            Ok(epoch.map(|epoch| Fence {
                owner: owner.to_owned(),
                epoch,
            }))
        })
        .await
    }

    async fn renew(&self, owner: &str, ttl: Duration) -> StoreResult<Vec<(String, i64)>> {
        self.run("cannot renew the leases in", async |c| {
            sqlx::query_as(
                "UPDATE pipeline_leases SET expires_at = clock_timestamp() + $2 * interval '1 millisecond' \
                 WHERE owner = $1 AND expires_at > clock_timestamp() RETURNING pipeline_id, epoch",
            )
            .bind(owner)
            .bind(millis(ttl))
            .fetch_all(&mut *c)
            .await
        })
        .await
    }

    async fn release(&self, pipeline_id: &str, fence: &Fence) -> StoreResult<()> {
        self.run("cannot give a lease up in", async |c| {
            sqlx::query(
                "UPDATE pipeline_leases SET expires_at = clock_timestamp() - interval '1 millisecond' \
                 WHERE pipeline_id = $1 AND owner = $2 AND epoch = $3",
            )
            .bind(pipeline_id)
            .bind(&fence.owner)
            .bind(fence.epoch)
            .execute(&mut *c)
            .await?;
            Ok(())
        })
        .await
    }

    async fn retire(&self, pipeline_id: &str) -> StoreResult<()> {
        self.run("cannot retire a lease in", async |c| {
            sqlx::query(
                "INSERT INTO pipeline_leases AS l (pipeline_id, owner, epoch, expires_at) \
                 VALUES ($1, $2, 1, 'infinity') ON CONFLICT (pipeline_id) DO UPDATE SET \
                 owner = excluded.owner, epoch = l.epoch + 1, expires_at = excluded.expires_at",
            )
            .bind(pipeline_id)
            .bind(NOBODY)
            .execute(&mut *c)
            .await?;
            Ok(())
        })
        .await
    }

    async fn lease_orphans(&self) -> StoreResult<()> {
        self.run("cannot lease new pipelines in", async |c| {
            sqlx::query(
                "INSERT INTO pipeline_leases (pipeline_id, owner, epoch, expires_at) \
                 SELECT p.pipeline_id, '', 0, '-infinity' FROM pipelines p \
                 WHERE NOT EXISTS (SELECT 1 FROM pipeline_leases l WHERE l.pipeline_id = p.pipeline_id) \
                 ON CONFLICT DO NOTHING",
            )
            .execute(&mut *c)
            .await?;
            Ok(())
        })
        .await
    }

    async fn commit_fenced(&self, changes: &ChangeSet, fence: &Fence) -> StoreResult<()> {
        self.commit_with(changes, Some(fence)).await
    }

    async fn task_pipeline(&self, task_id: &str) -> StoreResult<Option<String>> {
        self.run("cannot look a task up in", async |c| {
            sqlx::query_scalar(
                "SELECT pipeline_id FROM attempts WHERE task_id = $1 AND status = 'RUNNING' LIMIT 1",
            )
            .bind(task_id)
            .fetch_optional(&mut *c)
            .await
        })
        .await
    }

    async fn ready_pipelines(&self, worker_group: &str) -> StoreResult<Vec<String>> {
        self.run("cannot look for waiting tasks in", async |c| {
            // A skip scan of `attempts_waiting`: one index probe per pipeline with work, not a
            // read of every waiting attempt (thousands, when a big run was just activated).
            sqlx::query_scalar(
                "WITH RECURSIVE ready(pipeline_id) AS ( \
                     (SELECT pipeline_id FROM attempts \
                      WHERE status = 'WAITING_FOR_RUNNER' AND worker_group = $1 \
                      ORDER BY pipeline_id LIMIT 1) \
                     UNION ALL \
                     SELECT (SELECT a.pipeline_id FROM attempts a \
                             WHERE a.status = 'WAITING_FOR_RUNNER' AND a.worker_group = $1 \
                               AND a.pipeline_id > ready.pipeline_id \
                             ORDER BY a.pipeline_id LIMIT 1) \
                     FROM ready WHERE ready.pipeline_id IS NOT NULL) \
                 SELECT pipeline_id FROM ready WHERE pipeline_id IS NOT NULL",
            )
            .bind(worker_group)
            .fetch_all(&mut *c)
            .await
        })
        .await
    }

    async fn claim_unique_id(
        &self,
        account_id: &str,
        name: &str,
        unique_id: &str,
        pipeline_id: &str,
    ) -> StoreResult<String> {
        self.run("cannot record the uniqueId in", async |c| {
            sqlx::query(
                "INSERT INTO pipeline_unique_ids (account_id, name, unique_id, pipeline_id) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(account_id)
            .bind(name)
            .bind(unique_id)
            .bind(pipeline_id)
            .execute(&mut *c)
            .await?;
            sqlx::query_scalar(
                "SELECT pipeline_id FROM pipeline_unique_ids \
                 WHERE account_id = $1 AND name = $2 AND unique_id = $3",
            )
            .bind(account_id)
            .bind(name)
            .bind(unique_id)
            .fetch_one(&mut *c)
            .await
        })
        .await
    }

    async fn free_unique_id(&self, pipeline_id: &str) -> StoreResult<()> {
        self.run("cannot free the uniqueId in", async |c| {
            sqlx::query("DELETE FROM pipeline_unique_ids WHERE pipeline_id = $1")
                .bind(pipeline_id)
                .execute(&mut *c)
                .await?;
            Ok(())
        })
        .await
    }

    fn on_work(&self, wake: Box<dyn Fn() + Send + Sync>) {
        let pool = self.pool.clone();
        let schema = self.lock_key.clone();
        let location = self.location.clone();
        tokio::spawn(async move {
            let mut listener: Option<PgListener> = None;
            loop {
                let active = match listener.as_mut() {
                    Some(active) => active,
                    None => match connect_listener(&pool).await {
                        Ok(new) => {
                            // Signals sent while nobody listened are lost: look again.
                            wake();
                            listener.insert(new)
                        }
                        Err(error) => {
                            tracing::debug!("cannot listen on {location}: {error}");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                            continue;
                        }
                    },
                };
                match active.try_recv().await {
                    Ok(Some(signal)) if signal.payload() == schema => wake(),
                    Ok(Some(_)) => {}
                    // The connection broke; `try_recv` reconnects on the next call.
                    Ok(None) => wake(),
                    Err(error) => {
                        tracing::debug!("lost the notifications of {location}: {error}");
                        listener = None;
                    }
                }
            }
        });
    }
}

async fn connect_listener(pool: &sqlx::PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.ignore_pool_close_event(true);
    listener.listen(WORK_CHANNEL).await?;
    Ok(listener)
}

fn lease((pipeline_id, owner, epoch, live): (String, String, i64, bool)) -> Lease {
    Lease {
        pipeline_id,
        owner,
        epoch,
        live,
    }
}
