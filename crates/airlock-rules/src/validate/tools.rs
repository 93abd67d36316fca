//! Hand-written rules for one part of a request.
