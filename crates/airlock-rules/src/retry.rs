//! The retry policy as a pure function.
