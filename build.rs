//! Compiles the vendored Terraform plugin protocol (tfplugin5/6) and go-plugin service
//! definitions with tonic/prost, using a vendored `protoc` so no system install is needed;
//! and links libgcc's unwinder statically on linux-gnu (see `link_unwinder_statically`).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    let include = protoc_bin_vendored::include_path()?;
    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc);
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // Clients without `connect()` (tonic's transport client): the provider only serves,
        // and the tests give their clients a channel of their own.
        .build_transport(false)
        .compile_with_config(
            config,
            &[
                "proto/tfplugin6.proto",
                "proto/tfplugin5.proto",
                "proto/grpc_controller.proto",
                "proto/grpc_stdio.proto",
                "proto/grpc_broker.proto",
            ],
            &[
                "proto",
                include.to_str().ok_or("non-UTF-8 protoc include path")?,
            ],
        )?;
    link_unwinder_statically();
    fold_identical_code();
    Ok(())
}

/// Release builds of the provider binary link with `--icf=all`: the linker folds functions
/// whose machine code is identical (generic code instantiated for types of the same layout,
/// which LLVM's own function merging, working on IR, leaves apart). 128 KiB (2.6%) smaller,
/// nothing dropped (docs/performance.md). Only where the linker is rustc's default LLD
/// (x86_64-unknown-linux-gnu since Rust 1.90) and no other linker is configured: GNU ld
/// does not know the option.
fn fold_identical_code() {
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    if var("PROFILE") != "release" || var("TARGET") != "x86_64-unknown-linux-gnu" {
        return;
    }
    let other_linker = std::env::var_os("CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER").is_some()
        || var("CARGO_ENCODED_RUSTFLAGS").contains("link");
    let rustc = std::process::Command::new(std::env::var_os("RUSTC").unwrap_or("rustc".into()))
        .arg("-vV")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let minor = rustc
        .lines()
        .find_map(|l| l.strip_prefix("release: 1."))
        .and_then(|v| v.split('.').next())
        .and_then(|m| m.parse::<u32>().ok())
        .unwrap_or(0);
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER");
    if minor >= 90 && !other_linker {
        println!("cargo:rustc-link-arg-bin=terraform-provider-gitlab=-Wl,--icf=all");
    }
}

/// Rust's std on linux-gnu links the unwinder from the shared `libgcc_s.so.1` (only for
/// backtraces and `panic!`: the release profile aborts). Taking the same code from gcc's
/// static `libgcc_eh.a` (what `gcc -static-libgcc` does) drops one shared library from every
/// start: no extra open/map/relocation, and no `__cpu_indicator_init`, whose CPUID
/// instructions trap to the hypervisor on VMs. Measured: 0.13 ms less per plugin start
/// (docs/performance.md). Named before std's `-lgcc_s`, it resolves the `_Unwind_*` symbols, and
/// `--as-needed` then leaves `libgcc_s` out.
fn link_unwinder_statically() {
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let crt_static = var("CARGO_CFG_TARGET_FEATURE")
        .split(',')
        .any(|f| f == "crt-static");
    if var("CARGO_CFG_TARGET_OS") == "linux" && var("CARGO_CFG_TARGET_ENV") == "gnu" && !crt_static
    {
        println!("cargo:rustc-link-lib=static:-bundle=gcc_eh");
    }
}
