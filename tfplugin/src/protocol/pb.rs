//! Generated protobuf/gRPC types for tfplugin6, tfplugin5 and go-plugin's services.
#![allow(clippy::all, clippy::pedantic, missing_docs, rustdoc::all)]

pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}
pub mod tfplugin5 {
    tonic::include_proto!("tfplugin5");
}
pub mod plugin {
    tonic::include_proto!("plugin");
}
