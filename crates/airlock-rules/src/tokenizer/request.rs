//! Token counts of whole requests and the context budget.
