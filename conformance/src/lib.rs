//! Conformance tests against real clients and corpora live in `tests/`.
