//! Tests of the paste readers on realistic pastes.
