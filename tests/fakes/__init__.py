"""Stand-ins for what the tests cannot or should not use for real: vendor libraries (NVML, amdsmi,
zeus_apple_silicon), sysfs and powercap trees, a clock moved by hand, a sampler polled in the test's thread,
an OpenAI-compatible server, and worker entries for the isolated runner and the sweep."""
