#[sofa_rpc_core::service]
pub trait Echo {
    async fn echo(&self, message: String) -> String;
}

#[sofa_rpc_core::reference(direct_url = "127.0.0.1:12200")]
fn echo() -> EchoClient;

fn main() {}
