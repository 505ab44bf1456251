//! The PostgreSQL variants of the writer's conformance tests are compiled as `#[ignore]`d when
//! `RIALTO_TEST_POSTGRES_URL` is not set at build time, so `cargo test` reports them as ignored
//! instead of passing without having run. `.ci/run` sets it.

fn main() {
    println!("cargo::rerun-if-env-changed=RIALTO_TEST_POSTGRES_URL");
    println!("cargo::rustc-check-cfg=cfg(rialto_postgres)");
    if std::env::var_os("RIALTO_TEST_POSTGRES_URL").is_some_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=rialto_postgres");
    }
}
