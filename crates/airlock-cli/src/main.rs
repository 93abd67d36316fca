//! The `airlock` command.

fn main() {
    std::process::exit(2);
}
