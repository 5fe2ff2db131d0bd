// The layouts of the `cudac` rule of tests/cuda_c_producer.rs, as the Rust version 1 has them
// (`#[repr(C)]`), for its CUDA C versions.
#pragma once

struct Tagged {
    unsigned int stream, seq;
};
struct Stamped {
    unsigned int stream, seq, version;
    unsigned long long count;
};
struct LoadState {
    unsigned long long count;
};
