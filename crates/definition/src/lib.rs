//! Definition resolution and validation (to be written).
