//! Compiles the vendored Terraform plugin protocol (tfplugin5/6) and go-plugin service
//! definitions with tonic/prost, using a vendored `protoc` so no system install is needed.

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
    Ok(())
}
