//! Compile-time behaviour of `#[service]` and `#[reference]`: what compiles, and the spanned
//! errors for what does not.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
