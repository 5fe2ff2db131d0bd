//! Helpers shared by the end-to-end tests: running one test body on every backend.

#![allow(dead_code)]

use ringkernel::{Backend, Runtime};

/// A runtime on `backend` (panics with the reason when it cannot start: the callers only
/// ask for backends that `available` said are there).
pub fn runtime(backend: Backend) -> Runtime {
    Runtime::builder().backend(backend).build().unwrap_or_else(|e| panic!("{backend}: {e}"))
}

/// Why `backend` cannot run here, if it cannot (only `Cuda` may be missing: no `cuda`
/// feature, no driver or no device).
pub fn unavailable(backend: Backend) -> Option<String> {
    Runtime::builder().backend(backend).build().err().map(|e| e.to_string())
}

/// Runs a test on a backend, or prints why it skipped. With `RINGKERNEL_REQUIRE_CUDA=1` (set
/// by `scripts/gpu/check.sh` on a GPU machine) a missing CUDA backend fails the test instead.
pub fn on(backend: Backend, test: &str, body: impl FnOnce(Backend)) {
    if let Some(why) = unavailable(backend) {
        let required = backend == Backend::Cuda
            && std::env::var("RINGKERNEL_REQUIRE_CUDA").as_deref() == Ok("1");
        assert!(!required, "`{test}` on {backend}: {why} (RINGKERNEL_REQUIRE_CUDA=1)");
        eprintln!("skipped `{test}` on {backend}: {why}");
        return;
    }
    body(backend);
}

/// A two-worker tokio runtime with timers, for async test bodies.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(future)
}

/// Generates `mod cpu`, `mod emulated` and `mod cuda`, each with one `#[test]` per listed
/// function (`fn name(backend: Backend)` in the enclosing file) run on that backend. The
/// CUDA tests print why they skip on a machine without a GPU (or without the `cuda` feature).
#[macro_export]
macro_rules! on_every_backend {
    ($($test:ident),* $(,)?) => {
        mod cpu {
            $( #[test] fn $test() { $crate::common::on(ringkernel::Backend::Cpu, stringify!($test), super::$test) } )*
        }
        mod emulated {
            $( #[test] fn $test() { $crate::common::on(ringkernel::Backend::Emulated, stringify!($test), super::$test) } )*
        }
        mod cuda {
            $( #[test] fn $test() { $crate::common::on(ringkernel::Backend::Cuda, stringify!($test), super::$test) } )*
        }
    };
}
