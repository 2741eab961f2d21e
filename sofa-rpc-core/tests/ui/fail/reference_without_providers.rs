#[sofa_rpc_core::service]
pub trait Echo {
    async fn echo(&self, message: String) -> String;
}

#[sofa_rpc_core::reference(timeout = 100)]
fn echo() -> sofa_rpc_core::Result<EchoClient>;

fn main() {}
