#[sofa_rpc_core::service(interfce = "com.example.Echo")]
pub trait Echo {
    async fn echo(&self, message: String) -> String;
}

fn main() {}
