//! Freed memory kept for the next training step. glibc's allocator hands
//! every block of 128 KiB or more back to the kernel when it is freed and
//! maps fresh pages for the next one, each page faulting when first
//! written. A training step allocates and frees its tensors hundreds of
//! times, so by default it spends much of its time in page faults. Raising
//! both thresholds keeps freed blocks in the heap, to be reused.

use std::sync::Once;

/// Blocks up to this size come from the heap (glibc's largest threshold).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 32 << 20;

/// Free memory the heap keeps rather than giving back.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TRIM_THRESHOLD: libc::c_int = 1 << 30;

/// Sets the allocator to keep freed memory, once per process; nothing on
/// other C libraries.
pub fn keep_freed_memory() {
    static SET: Once = Once::new();
    SET.call_once(|| {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: mallopt only changes two of the allocator's settings; it
        // takes the allocator's lock, and blocks already allocated stay
        // valid.
        #[allow(unsafe_code)]
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
        }
    });
}
