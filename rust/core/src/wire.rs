//! The wire rules both backends share, made from their one home, `python/anthropic_eventstream/_frames/wire.txt`,
//! by `build.rs`: each `const` a constant here, each `message` an arm of `wire_message!` (used by
//! [`crate::error`] and [`crate::header`]), which writes it with its fields by name.

include!(concat!(env!("OUT_DIR"), "/wire.rs"));
