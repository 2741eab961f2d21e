#[sofa_rpc_core::service]
pub trait Echo {
    async fn echo(message: String) -> String;
}

fn main() {}
