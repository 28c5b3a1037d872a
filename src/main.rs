//! The `edgegate` binary: parse the command line, run the library, exit with a documented code.

fn main() {
    std::process::exit(edgegate::cli::main());
}
