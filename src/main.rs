//! The `edgegate` binary: parse the command line, run the library, exit with a documented code.

/// mimalloc: a config of thousands of cases is tens of thousands of small maps and strings, and
/// glibc's malloc made allocation and freeing a fifth of `validate`'s time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let serving = std::env::args_os()
        .nth(1)
        .is_some_and(|command| command == "serve" || command == "hub-sim");
    if !serving {
        keep_freed_memory();
    }
    std::process::exit(edgegate::cli::main());
}

/// mimalloc's `mi_option_purge_delay` (mimalloc v3's `mi_option_t`; `tests::purge_delay_option`
/// checks the number).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// A command that ends (every one but `serve` and `hub-sim`) keeps the memory it frees for its
/// own later allocations instead of handing it back to the OS. mimalloc returns a thread's free
/// pages when the thread ends, and `validate` of a large promptpack, whose parts are parsed on
/// threads that end, then took the same pages back zeroed: a tenth of its time.
fn keep_freed_memory() {
    // SAFETY: `mi_option_set` stores an option's value; mimalloc reads it when deciding whether
    // to return pages. It may be called at any time, from any thread.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn purge_delay_option() {
        // SAFETY: reading an option's value.
        let delay = unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) };
        // Its default, 1000 ms (no `main` ran here to change it).
        assert_eq!(delay, 1000, "option 15 is not mimalloc's purge delay");
    }
}
