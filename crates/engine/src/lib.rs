//! The engine (to be written): see `store` for the persistence contract and `clock` for time.

pub mod clock;
pub mod store;

pub use clock::{Clock, SystemClock, VirtualClock};
pub use store::{AttemptRecord, ChangeSet, InstanceRecord, PipelineRecord, Store, StoreError};
