//! The `adjoint` command-line tool: a thin layer over the library.
//!
//! Errors print one line on stderr and exit with status 1 (2 for unusable arguments).

mod cli;

use clap::Parser;
use std::alloc::{GlobalAlloc, Layout, System};
use std::process::ExitCode;

/// The system allocator, except that running out of memory ends the program with one line on
/// stderr and exit status 1 (as every data-dependent failure does) instead of Rust's abort
/// with a backtrace. The memory checks refuse runs that cannot fit beforehand; this catches
/// what an estimate missed. An export in progress lives in a hidden sibling folder, which the
/// next export removes.
struct ExitOnOom;

#[cold]
fn out_of_memory(size: usize) -> ! {
    // the size in decimal, into a stack buffer: nothing here may allocate
    let mut digits = [0u8; 20];
    let mut k = digits.len();
    let mut n = size;
    loop {
        k -= 1;
        digits[k] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let pieces: [&[u8]; 3] = [
        b"error: out of memory (an allocation of ",
        &digits[k..],
        b" bytes failed)\n",
    ];
    // SAFETY: write(2) on stderr with valid buffers; _exit ends the process without running
    // destructors or atexit handlers (which could allocate).
    unsafe {
        for p in pieces {
            libc::write(2, p.as_ptr().cast(), p.len());
        }
        libc::_exit(1)
    }
}

// SAFETY: every method forwards to `System` with the same arguments.
unsafe impl GlobalAlloc for ExitOnOom {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if p.is_null() {
            out_of_memory(layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if p.is_null() {
            out_of_memory(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if p.is_null() {
            out_of_memory(new_size);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: ExitOnOom = ExitOnOom;

fn main() -> ExitCode {
    // Behave like other command-line tools when the reader goes away (`adjoint … | head`):
    // end quietly on SIGPIPE instead of failing on a write to a closed pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default action of a signal before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let args = match cli::Cli::try_parse() {
        Ok(args) => args,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            // clap's message is followed by a usage block: keep what comes before it (the
            // message and, e.g., the names of missing arguments), on one line.
            let text = e.render().to_string();
            let message: Vec<&str> = text
                .lines()
                .take_while(|l| !l.starts_with("Usage:"))
                .map(str::trim)
                .filter(|l| {
                    !l.is_empty()
                        && !l.starts_with("tip:")
                        && !l.starts_with("For more information")
                })
                .collect();
            let first = if message.is_empty() {
                "error: invalid arguments".to_string()
            } else {
                message.join(" ")
            };
            eprintln!("{first} (see `adjoint --help`)");
            return ExitCode::from(2);
        }
    };
    // `println!` panics when stdout cannot be written (a full disk, /dev/full): report that
    // as the one-line error it is, not as a panic
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !panic_text(info.payload()).starts_with(STDOUT_FAILURE) {
            default_hook(info);
        }
    }));
    let result = match std::panic::catch_unwind(|| cli::run(args)) {
        Ok(r) => r,
        Err(payload) => {
            let text = panic_text(&*payload);
            if let Some(reason) = text.strip_prefix(STDOUT_FAILURE) {
                eprintln!(
                    "error: cannot write the output{}",
                    reason.replace('\n', " ")
                );
                return ExitCode::from(1);
            }
            std::panic::resume_unwind(payload)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<cli::Usage>().is_some() => {
            eprintln!("error: {} (see `adjoint --help`)", one_line(&e));
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::from(1)
        }
    }
}

/// How the standard library's `print!` panics when stdout fails.
const STDOUT_FAILURE: &str = "failed printing to stdout";

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// The error and its causes on one line, skipping a cause already spelled out by its parent
/// (the library's errors print their own source).
fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line.replace('\n', " ")
}
