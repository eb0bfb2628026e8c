//! Task runners (to be written).
