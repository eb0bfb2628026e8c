//! The `DataPipeline` web API (to be written).

pub mod auth;
