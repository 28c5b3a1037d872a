//! A counting global allocator for the integration test binary: while a probe is active on a
//! thread, it records the largest single allocation (or reallocation) that thread asks for, so
//! fuzz tests can assert that a decoder never allocates more than its input justifies.
//!
//! Other threads (the tests running alongside) are not counted. Memory libhdf5 takes with C's
//! `malloc` is not seen; everything Rust allocates (prost, our readers, hdf5-metno's buffers) is.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write;

/// Requests above this while probing are reported on stderr and refused (the process aborts),
/// so a decoder that trusts a header claiming terabytes fails loudly instead of swapping.
const REFUSE_ABOVE: usize = 1 << 30;

thread_local! {
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

struct Counting;

/// Records a request; false when it must be refused.
fn record(size: usize) -> bool {
    let active = ACTIVE.try_with(Cell::get).unwrap_or(false);
    if !active {
        return true;
    }
    let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
    if size > REFUSE_ABOVE {
        let _ = ACTIVE.try_with(|a| a.set(false));
        let _ = std::io::stderr()
            .write_all(b"alloc_probe: a decoder asked for more than 1 GiB in one allocation\n");
        return false;
    }
    true
}

// SAFETY: every call is forwarded unchanged to `System`; refusing returns null, which the
// `GlobalAlloc` contract allows.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !record(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !record(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !record(new_size) {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded with the caller's pointer, layout and size.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's pointer and layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` and returns what it returned with the largest single allocation it made on this
/// thread, in bytes.
pub fn largest_allocation<T>(f: impl FnOnce() -> T) -> (T, usize) {
    /// Stops probing even when `f` panics.
    struct Stop;
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = ACTIVE.try_with(|a| a.set(false));
        }
    }
    LARGEST.with(|l| l.set(0));
    ACTIVE.with(|a| a.set(true));
    let stop = Stop;
    let out = f();
    drop(stop);
    (out, LARGEST.with(Cell::get))
}

#[test]
fn the_probe_sees_a_large_allocation_and_ignores_other_threads() {
    let (v, largest) = largest_allocation(|| Vec::<u8>::with_capacity(3 << 20));
    assert_eq!(v.capacity(), 3 << 20);
    assert!(largest >= 3 << 20, "{largest}");
    let ((), largest) = largest_allocation(|| {
        std::thread::scope(|s| {
            s.spawn(|| std::hint::black_box(vec![0u8; 5 << 20]).len());
        });
    });
    assert!(
        largest < 1 << 20,
        "another thread's allocation was counted: {largest}"
    );
}
