//! `astrolake`: the one binary. The grammar is `astrolake_services::cli`,
//! the commands `astrolake_services::commands`.

use std::process::ExitCode;

use astrolake_services::cli::Cli;
use astrolake_services::commands;
use clap::Parser;

/// mimalloc instead of glibc malloc: DataFusion allocates and frees large
/// decode buffers for every batch, which glibc serves with mmap/munmap
/// (page faults); see docs/BENCHMARKS.md.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(commands::THREAD_STACK_BYTES)
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
