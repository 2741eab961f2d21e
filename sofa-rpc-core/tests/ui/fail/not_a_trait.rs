#[sofa_rpc_core::service]
pub struct Echo;

fn main() {}
