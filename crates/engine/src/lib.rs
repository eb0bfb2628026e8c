//! The engine (to be written): see `store` for the persistence contract and `clock` for time.

pub mod clock;
pub mod conformance;
pub mod memory_store;
pub mod store;

pub use clock::{Clock, SystemClock, VirtualClock};
pub use memory_store::MemoryStore;
pub use store::{AttemptRecord, ChangeSet, InstanceRecord, PipelineRecord, Store, StoreError};
