#[sofa_rpc_core::service]
pub trait Echo {
    fn echo(&self, message: String) -> String;
}

fn main() {}
