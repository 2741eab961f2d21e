#[sofa_rpc_core::service]
pub trait Echo {
    async fn echo(&self, message: String) -> String;
    #[sofa(name = "echo")]
    async fn echo_again(&self, message: String) -> String;
}

fn main() {}
