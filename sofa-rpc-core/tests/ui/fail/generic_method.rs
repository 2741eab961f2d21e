#[sofa_rpc_core::service]
pub trait Echo {
    async fn echo<T>(&self, message: T) -> String;
}

fn main() {}
