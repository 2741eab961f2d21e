#[sofa_rpc_core::service]
pub trait Echo {
    async fn echo(&self, message: String) -> String {
        message
    }
}

fn main() {}
