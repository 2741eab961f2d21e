//! Benchmarks of sofa-rpc-rs.
//!
//! * `cargo bench -p sofa-rpc-benches`: criterion micro benches (frame codec, serializers).
//! * End to end: `sofa-bench-server` / `sofa-bench-client` (an echo of a byte payload through
//!   the whole pipeline), beside a minimal multiplexed raw-TCP pair, a pipelined raw-TCP client
//!   (`raw-pipe`, the wire and system-call limit) and a tarpc pair, all with
//!   one command line (`--addr --conns --concurrency --payload --duration --warmup --threads
//!   --server-pid --mode`) and one JSON result line; `benches/run.sh` runs them interleaved.

pub mod child;
pub mod echo;
pub mod load;
pub mod loopback;
pub mod pipe;
pub mod raw;
pub mod tarpc_echo;
