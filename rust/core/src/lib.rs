//! Incremental decoder for the AWS event-stream framing (`application/vnd.amazon.eventstream`).
//!
//! The data's path through this crate, and through its modules:
//!
//! bytes --[`decoder`]--> frames ([`frame`]: [`prelude`] + [`header`]s + payload) --[`bedrock`]--> events
//!
//! and, for first-party and Vertex streams, text/event-stream bytes --[`sse`]--> events.
//!
//! Everything here is plain Rust: the Python binding lives in a separate crate and only converts types.
//! Every length read from the wire is checked before it is trusted (the prelude CRC first), every piece of
//! arithmetic on those lengths is checked, and every failure is an [`Error`] that says what was expected,
//! what was found and at which byte of the stream.

#[macro_use]
pub mod wire;

pub mod bedrock;
pub mod crc;
pub mod decoder;
pub mod error;
pub mod frame;
pub mod header;
pub mod json;
pub mod prelude;
pub mod sse;
pub mod utf8;

pub use decoder::{Decoder, FrameBytes, Location};
pub use error::{Error, ErrorClass, ErrorKind};
pub use frame::{encode_message, Frame, MessageType};
pub use header::{Header, HeaderIter, HeaderType, HeaderValue};
pub use prelude::{Limits, Prelude};
