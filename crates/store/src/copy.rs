//! Moving a deployment's state from one store to another (`sluice store copy`): every pipeline
//! with its definitions, fields and tags, every instance and every attempt, records unchanged.
//!
//! Works between any two [`Store`]s, so the same code moves SQLite to PostgreSQL, back, or
//! between two files. Each pipeline goes over in commits of at most [`CopyOptions::chunk`]
//! records, its pipeline record first (stores accept a pipeline's instances and attempts in
//! later commits once the pipeline exists); once it is over, its records are read back from
//! the target and compared with the source's, so a copy that returns `Ok` lost nothing.
//!
//! The copy reads the source as it is: stop the servers using it first, or pipelines that
//! change meanwhile are copied as they were when read.

use sluice_engine::{AttemptRecord, ChangeSet, InstanceRecord, Store, StoreError};

/// How [`copy`] treats the target.
#[derive(Debug, Clone)]
pub struct CopyOptions {
    /// Copy into a target that already holds pipelines; the pipelines it already has (by id)
    /// are left as they are and reported as skipped.
    pub into_non_empty: bool,
    /// Records per commit.
    pub chunk: usize,
}

impl Default for CopyOptions {
    fn default() -> Self {
        CopyOptions {
            into_non_empty: false,
            chunk: 5000,
        }
    }
}

/// What a copy moved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyReport {
    pub pipelines: usize,
    pub instances: usize,
    pub attempts: usize,
    /// Pipelines the target already held, not copied.
    pub skipped: Vec<String>,
}

/// Why a copy stopped.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("the target already holds {0} pipeline(s); copy into it anyway with --into-non-empty")]
    TargetNotEmpty(usize),
    #[error("reading the source: {0}")]
    Source(StoreError),
    #[error("writing the target: {0}")]
    Target(StoreError),
    #[error("pipeline {pipeline}: the target does not hold what was copied ({what})")]
    Mismatch { pipeline: String, what: String },
}

/// Copies every pipeline of `from` into `to`.
pub async fn copy(
    from: &dyn Store,
    to: &dyn Store,
    options: &CopyOptions,
) -> Result<CopyReport, CopyError> {
    let existing = to.pipelines().await.map_err(CopyError::Target)?;
    if !existing.is_empty() && !options.into_non_empty {
        return Err(CopyError::TargetNotEmpty(existing.len()));
    }
    let chunk = options.chunk.max(1);
    let mut report = CopyReport::default();
    for pipeline in from.pipelines().await.map_err(CopyError::Source)? {
        let id = pipeline.pipeline_id.clone();
        if existing.iter().any(|p| p.pipeline_id == id) {
            report.skipped.push(id);
            continue;
        }
        let instances = from.instances(&id).await.map_err(CopyError::Source)?;
        let attempts = from.attempts(&id).await.map_err(CopyError::Source)?;
        to.commit(&ChangeSet {
            pipelines: vec![pipeline.clone()],
            ..ChangeSet::default()
        })
        .await
        .map_err(CopyError::Target)?;
        for part in instances.chunks(chunk) {
            commit_records(to, part.to_vec(), Vec::new()).await?;
        }
        for part in attempts.chunks(chunk) {
            commit_records(to, Vec::new(), part.to_vec()).await?;
        }
        verify(to, &pipeline, &instances, &attempts).await?;
        report.pipelines += 1;
        report.instances += instances.len();
        report.attempts += attempts.len();
    }
    Ok(report)
}

async fn commit_records(
    to: &dyn Store,
    instances: Vec<InstanceRecord>,
    attempts: Vec<AttemptRecord>,
) -> Result<(), CopyError> {
    to.commit(&ChangeSet {
        pipelines: Vec::new(),
        instances,
        attempts,
    })
    .await
    .map_err(CopyError::Target)
}

/// Reads the pipeline back from the target and compares it with what was read from the source.
async fn verify(
    to: &dyn Store,
    pipeline: &sluice_engine::PipelineRecord,
    instances: &[InstanceRecord],
    attempts: &[AttemptRecord],
) -> Result<(), CopyError> {
    let id = &pipeline.pipeline_id;
    let mismatch = |what: &str| CopyError::Mismatch {
        pipeline: id.clone(),
        what: what.to_owned(),
    };
    let stored = to.pipeline(id).await.map_err(CopyError::Target)?;
    if stored.as_ref() != Some(pipeline) {
        return Err(mismatch("pipeline record"));
    }
    if to.instances(id).await.map_err(CopyError::Target)? != instances {
        return Err(mismatch("instances"));
    }
    if to.attempts(id).await.map_err(CopyError::Target)? != attempts {
        return Err(mismatch("attempts"));
    }
    Ok(())
}
