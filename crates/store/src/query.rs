//! Pages of instances ([`Store::query_instances`](sluice_engine::Store::query_instances)) as
//! the SQL both stores run, so that they answer every query alike.
//!
//! A page is read in (scheduled start, id) order. The indexes of migration 3 hold those
//! columns right after the one a query pins with `=`: `status` (`instances_by_status`),
//! `component_id` (`instances_by_component`), or nothing (`instances_by_start`). A query that
//! pins one value is one range of one index, read in order and stopped at the limit. A query
//! for several values is one such range per value (a *branch*), each limited, merged by a sort
//! of at most branches × limit keys; the records of the page are read last, by primary key.
//! Branches never overlap, since each pins another value.
//!
//! Statuses and components together branch over the statuses and pass over the other
//! components' entries within each range; the status index holds the component, so that
//! reads no rows. A query for more components than [`MAX_BRANCHES`] walks `instances_by_start`
//! and passes over the other components' rows. Either way such a page costs more the more
//! instances it passes over before it is full.
//!
//! The time range and the page's start (`after`) are bounds on `scheduled_start` within each
//! range. The start after `after` is written `start >= s AND (start > s OR id > i)` rather than
//! as a row comparison, which both databases turn into an index bound.

use async_trait::async_trait;
use sluice_engine::store::StoreResult;
use sluice_engine::{InstanceKey, InstanceQuery, InstanceRecord, id_hash};

use crate::records::time_key;

/// Most branches of one statement.
const MAX_BRANCHES: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    Postgres,
}

/// A value bound to a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    Text(String),
    Int(i64),
}

/// SQL and the values of its numbered parameters, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Statement {
    pub(crate) sql: String,
    pub(crate) values: Vec<Value>,
}

struct Builder {
    dialect: Dialect,
    values: Vec<Value>,
}

impl Builder {
    fn new(dialect: Dialect) -> Builder {
        Builder {
            dialect,
            values: Vec::new(),
        }
    }

    /// Binds `value` and returns its placeholder.
    fn bind(&mut self, value: Value) -> String {
        self.values.push(value);
        let n = self.values.len();
        match self.dialect {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => format!("${n}"),
        }
    }

    fn text(&mut self, text: &str) -> String {
        self.bind(Value::Text(text.to_owned()))
    }

    fn finish(self, sql: String) -> Statement {
        Statement {
            sql,
            values: self.values,
        }
    }
}

impl Statement {
    /// The statement for sqlx, its values bound.
    pub(crate) fn query<DB: sqlx::Database>(
        &self,
    ) -> sqlx::query::Query<'_, DB, <DB as sqlx::Database>::Arguments<'_>>
    where
        for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    {
        let mut query = sqlx::query(&self.sql);
        for value in &self.values {
            query = match value {
                Value::Text(text) => query.bind(text.as_str()),
                Value::Int(n) => query.bind(*n),
            };
        }
        query
    }
}

/// A store that runs this module's statements: the two query methods of `Store` are then the
/// same for both.
#[async_trait]
pub(crate) trait Reader: Sync {
    const DIALECT: Dialect;

    /// Runs `statement` and decodes the instances of `pipeline_id` it returns, in its order.
    async fn read_instances(
        &self,
        pipeline_id: &str,
        statement: Statement,
    ) -> StoreResult<Vec<InstanceRecord>>;

    async fn query_instances(
        &self,
        pipeline_id: &str,
        query: &InstanceQuery,
    ) -> StoreResult<Vec<InstanceRecord>> {
        match page(Self::DIALECT, pipeline_id, query) {
            Some(statement) => self.read_instances(pipeline_id, statement).await,
            None => Ok(Vec::new()),
        }
    }

    async fn instances_with_id_hash(
        &self,
        pipeline_id: &str,
        hash: u64,
    ) -> StoreResult<Vec<InstanceRecord>> {
        let statement = with_id_hash(Self::DIALECT, pipeline_id, hash);
        let mut found = self.read_instances(pipeline_id, statement).await?;
        found.sort_by_key(InstanceKey::of);
        Ok(found)
    }
}

/// The id hash as its column holds it: the i64 with the same bits.
pub(crate) fn id_hash_column(instance_id: &str) -> i64 {
    hash_to_column(id_hash(instance_id))
}

pub(crate) fn hash_to_column(hash: u64) -> i64 {
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// The instances of a pipeline whose id has `hash`, in no particular order (callers sort the
/// one or two there are): asked for an order, SQLite walks the pipeline's instances in that
/// order rather than look the hash up.
pub(crate) fn with_id_hash(dialect: Dialect, pipeline_id: &str, hash: u64) -> Statement {
    let mut b = Builder::new(dialect);
    let pipeline = b.text(pipeline_id);
    let hash = b.bind(Value::Int(hash_to_column(hash)));
    b.finish(format!(
        "SELECT instance_id, data FROM instances WHERE pipeline_id = {pipeline} \
         AND id_hash = {hash}"
    ))
}

/// The statement answering `query` (`instance_id`, `data` of each instance, in order); `None`
/// when it selects nothing whatever is stored.
pub(crate) fn page(
    dialect: Dialect,
    pipeline_id: &str,
    query: &InstanceQuery,
) -> Option<Statement> {
    if query.selects_nothing() {
        return None;
    }
    let mut b = Builder::new(dialect);
    let pipeline = b.text(pipeline_id);

    // Bounds every branch shares, bound once and named by number in each.
    let mut bounds = String::new();
    let from = match (query.start_from, &query.after) {
        // Every instance from `from` on sorts after `after`.
        (Some(from), Some(after)) if after.scheduled_start < from => Some(from),
        (_, Some(after)) => {
            let start = b.text(&time_key(after.scheduled_start));
            let id = b.text(&after.instance_id);
            bounds.push_str(&format!(
                " AND scheduled_start >= {start} AND (scheduled_start > {start} OR instance_id > {id})"
            ));
            None
        }
        (from, None) => from,
    };
    if let Some(from) = from {
        let from = b.text(&time_key(from));
        bounds.push_str(&format!(" AND scheduled_start >= {from}"));
    }
    if let Some(before) = query.start_before {
        let before = b.text(&time_key(before));
        bounds.push_str(&format!(" AND scheduled_start < {before}"));
    }
    let limit = b.bind(Value::Int(i64::try_from(query.limit).unwrap_or(i64::MAX)));

    // Each value bound once; branches name it by number.
    let mut values = |list: Option<Vec<&str>>| -> Option<Vec<String>> {
        list.map(|mut list| {
            list.sort_unstable();
            list.dedup();
            list.into_iter().map(|v| b.text(v)).collect()
        })
    };
    let statuses = values(
        query
            .statuses
            .as_ref()
            .map(|s| s.iter().map(|s| s.as_str()).collect()),
    );
    let components = values(
        query
            .components
            .as_ref()
            .map(|c| c.iter().map(String::as_str).collect()),
    );
    // SQLite left to itself may walk a component's rows checking the status of each, which is
    // slow exactly when the status is rare (failures); `+` keeps the column out of index
    // choice. PostgreSQL chooses by its statistics, and has no unary `+` on text.
    let column = match dialect {
        Dialect::Sqlite => "+component_id",
        Dialect::Postgres => "component_id",
    };
    let among = |components: &[String]| format!(" AND {column} IN ({})", components.join(", "));
    let (pins, filter): (Vec<String>, String) = match (statuses, components) {
        (None, None) => (vec![String::new()], String::new()),
        (Some(s), c) => (
            s.iter().map(|s| format!(" AND status = {s}")).collect(),
            c.as_deref().map(among).unwrap_or_default(),
        ),
        (None, Some(c)) if c.len() <= MAX_BRANCHES => (
            c.iter()
                .map(|c| format!(" AND component_id = {c}"))
                .collect(),
            String::new(),
        ),
        (None, Some(c)) => (vec![String::new()], among(&c)),
    };
    let branches: Vec<String> = pins
        .iter()
        .map(|pinned| {
            format!(
                "FROM instances WHERE pipeline_id = {pipeline}{pinned}{bounds}{filter} \
                 ORDER BY scheduled_start, instance_id LIMIT {limit}"
            )
        })
        .collect();
    let sql = if let [only] = branches.as_slice() {
        format!("SELECT instance_id, data {only}")
    } else {
        let union: Vec<String> = branches
            .iter()
            .enumerate()
            .map(|(n, branch)| {
                format!("SELECT * FROM (SELECT scheduled_start, instance_id {branch}) AS b{n}")
            })
            .collect();
        // The records last, by primary key, for the page only: as a join, the planners may
        // walk the pipeline's instances and look each up in the page instead.
        format!(
            "SELECT k.instance_id, (SELECT data FROM instances AS i \
             WHERE i.pipeline_id = {pipeline} AND i.instance_id = k.instance_id) \
             FROM (SELECT scheduled_start, instance_id FROM ({}) AS u \
             ORDER BY scheduled_start, instance_id LIMIT {limit}) AS k \
             ORDER BY k.scheduled_start, k.instance_id",
            union.join(" UNION ALL ")
        )
    };
    Some(b.finish(sql))
}
