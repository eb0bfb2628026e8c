//! An in-memory [`Store`](crate::Store) (to be written).
pub struct MemoryStore;
