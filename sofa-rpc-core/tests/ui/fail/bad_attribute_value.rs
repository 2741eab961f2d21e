#[sofa_rpc_core::service(version = 2)]
pub trait Echo {
    async fn echo(&self, message: String) -> String;
}

fn main() {}
