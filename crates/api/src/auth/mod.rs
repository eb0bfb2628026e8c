//! SigV4 authentication and credentials (to be written).
