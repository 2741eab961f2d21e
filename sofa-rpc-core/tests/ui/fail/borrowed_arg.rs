#[sofa_rpc_core::service]
pub trait Echo {
    async fn echo(&self, message: &str) -> String;
}

fn main() {}
