//! Benchmarks of sofa-rpc-rs: criterion micro benches under `benches/` (`cargo bench -p
//! sofa-rpc-benches`) and the end-to-end echo load generator.
