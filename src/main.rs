//! The `remedybot` binary: everything lives in the library.

fn main() -> std::process::ExitCode {
    remedybot::cli::run()
}
