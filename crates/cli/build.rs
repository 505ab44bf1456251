//! Test variants that need a service (PostgreSQL, Redis, NATS) are compiled as `#[ignore]`d when
//! its URL is not set at build time, so `cargo test` reports them as ignored instead of passing
//! without having run. `.ci/run` sets all three.

fn main() {
    for (var, cfg) in [
        ("RIALTO_TEST_POSTGRES_URL", "rialto_postgres"),
        ("RIALTO_TEST_REDIS_URL", "rialto_redis"),
        ("RIALTO_TEST_NATS_URL", "rialto_nats"),
    ] {
        println!("cargo::rerun-if-env-changed={var}");
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        if std::env::var_os(var).is_some_and(|v| !v.is_empty()) {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
}
