//! Durable state stores (to be written).
