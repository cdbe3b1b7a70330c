//! Makes the wire rules both backends share (`python/anthropic_eventstream/_frames/wire.txt`, the one
//! home of each) into Rust: a constant for each `const` line, and an arm of the `wire_message!` macro for
//! each `message` line, which writes that format with the fields it is given by name (a field the format
//! does not name, or one it names and is not given, fails the build).

use std::fmt::Write as _;
use std::path::Path;
use std::{env, fs};

fn main() {
    let table =
        Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap()).join("../../python/anthropic_eventstream/_frames/wire.txt");
    println!("cargo::rerun-if-changed={}", table.display());
    let text = fs::read_to_string(&table).unwrap_or_else(|e| panic!("cannot read {}: {e}", table.display()));
    let mut constants = String::new();
    let mut arms = String::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (kind, rest) = line.split_once(' ').unwrap_or_else(|| panic!("wire.txt:{}: {line}", number + 1));
        let (name, value) = rest.split_once(" = ").unwrap_or_else(|| panic!("wire.txt:{}: {line}", number + 1));
        match kind {
            "const" => {
                let (rust_type, name) =
                    name.split_once(' ').unwrap_or_else(|| panic!("wire.txt:{}: {line}", number + 1));
                // digits, `_` between groups (as both Rust and Python's `int()` read them)
                if let Err(e) = value.replace('_', "").parse::<u64>() {
                    panic!("wire.txt:{}: {e}", number + 1);
                }
                let _ = writeln!(constants, "pub const {name}: {rust_type} = {value};");
            }
            "message" => {
                let _ = writeln!(
                    arms,
                    "    ({name}, $f:expr, $($field:ident = $value:expr),* $(,)?) => {{ write!($f, {value:?}, $($field = $value),*) }};"
                );
            }
            _ => panic!("wire.txt:{}: unknown kind {kind:?}", number + 1),
        }
    }
    let out = Path::new(&env::var("OUT_DIR").unwrap()).join("wire.rs");
    let code = format!(
        "{constants}\n/// Writes the wire message `NAME` with its fields.\nmacro_rules! wire_message {{\n{arms}}}\n"
    );
    fs::write(out, code).unwrap();
}
