//! The `edgegate` binary: parse the command line, run the library, exit with a documented code.

/// mimalloc: a config of thousands of cases is tens of thousands of small maps and strings, and
/// glibc's malloc made allocation and freeing a fifth of `validate`'s time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(edgegate::cli::main());
}
