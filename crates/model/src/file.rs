//! Definition files (`objects`, `parameters`, `values`) and their translation to and from the
//! API form, exactly as the AWS CLI performs it.
