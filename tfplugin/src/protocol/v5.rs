//! tfplugin5 adapter: the `tfplugin5.Provider` gRPC service (Terraform 0.12-0.15 and any
//! client that offers only protocol 5), mapped onto the internal [`ProviderServer`].

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::pb::tfplugin5 as pb;

include!("adapter_common.rs");

/// Serves a [`ProviderServer`] as protocol 5.
pub struct ProviderV5<P>(pub Arc<P>);

type R<T> = Result<Response<T>, Status>;

fn ok<T>(t: T) -> R<T> {
    Ok(Response::new(t))
}

/// Responses that carry nothing but diagnostics when a feature is not offered.
trait Unsupported: Default {
    fn with(diagnostics: Vec<pb::Diagnostic>) -> Self;
}
macro_rules! unsupported_responses {
    ($($t:ty),* $(,)?) => {$(
        impl Unsupported for $t {
            #[allow(clippy::needless_update)]
            fn with(diagnostics: Vec<pb::Diagnostic>) -> Self {
                Self { diagnostics, ..Default::default() }
            }
        }
    )*};
}
unsupported_responses!(
    pb::upgrade_resource_identity::Response,
    pb::move_resource_state::Response,
    pb::generate_resource_config::Response,
    pb::validate_ephemeral_resource_config::Response,
    pb::open_ephemeral_resource::Response,
    pb::renew_ephemeral_resource::Response,
    pb::close_ephemeral_resource::Response,
    pb::validate_list_resource_config::Response,
    pb::validate_action_config::Response,
    pb::plan_action::Response,
);

fn not_offered<T: Unsupported>(feature: &str) -> R<T> {
    ok(T::with(unsupported(feature)))
}

#[tonic::async_trait]
impl<P: ProviderServer> pb::provider_server::Provider for ProviderV5<P> {
    async fn get_metadata(
        &self,
        _: Request<pb::get_metadata::Request>,
    ) -> R<pb::get_metadata::Response> {
        ok(get_metadata(&*self.0))
    }
    async fn get_schema(
        &self,
        _: Request<pb::get_provider_schema::Request>,
    ) -> R<pb::get_provider_schema::Response> {
        ok(get_provider_schema(&*self.0))
    }
    async fn get_resource_identity_schemas(
        &self,
        _: Request<pb::get_resource_identity_schemas::Request>,
    ) -> R<pb::get_resource_identity_schemas::Response> {
        ok(Default::default())
    }
    async fn prepare_provider_config(
        &self,
        r: Request<pb::prepare_provider_config::Request>,
    ) -> R<pb::prepare_provider_config::Response> {
        let r = r.into_inner();
        let diagnostics = validate_provider_config(&*self.0, r.config.as_ref()).await;
        // Terraform 0.12-0.15 configure the provider with the prepared config: echo it.
        ok(pb::prepare_provider_config::Response {
            prepared_config: r.config,
            diagnostics,
        })
    }
    async fn validate_resource_type_config(
        &self,
        r: Request<pb::validate_resource_type_config::Request>,
    ) -> R<pb::validate_resource_type_config::Response> {
        let r = r.into_inner();
        ok(pb::validate_resource_type_config::Response {
            diagnostics: validate_resource_config(
                &*self.0,
                &r.type_name,
                r.config.as_ref(),
                r.client_capabilities.as_ref(),
            )
            .await,
        })
    }
    async fn validate_data_source_config(
        &self,
        r: Request<pb::validate_data_source_config::Request>,
    ) -> R<pb::validate_data_source_config::Response> {
        let r = r.into_inner();
        ok(pb::validate_data_source_config::Response {
            diagnostics: validate_data_source_config(&*self.0, &r.type_name, r.config.as_ref())
                .await,
        })
    }
    async fn upgrade_resource_state(
        &self,
        r: Request<pb::upgrade_resource_state::Request>,
    ) -> R<pb::upgrade_resource_state::Response> {
        ok(upgrade_resource_state(&*self.0, r.into_inner()).await)
    }
    async fn upgrade_resource_identity(
        &self,
        _: Request<pb::upgrade_resource_identity::Request>,
    ) -> R<pb::upgrade_resource_identity::Response> {
        not_offered("resource identity")
    }
    async fn configure(&self, r: Request<pb::configure::Request>) -> R<pb::configure::Response> {
        let r = r.into_inner();
        ok(pb::configure::Response {
            diagnostics: configure(&*self.0, r.terraform_version, r.config.as_ref()).await,
        })
    }
    async fn read_resource(
        &self,
        r: Request<pb::read_resource::Request>,
    ) -> R<pb::read_resource::Response> {
        ok(read_resource(&*self.0, r.into_inner()).await)
    }
    async fn plan_resource_change(
        &self,
        r: Request<pb::plan_resource_change::Request>,
    ) -> R<pb::plan_resource_change::Response> {
        ok(plan_resource_change(&*self.0, r.into_inner()).await)
    }
    async fn apply_resource_change(
        &self,
        r: Request<pb::apply_resource_change::Request>,
    ) -> R<pb::apply_resource_change::Response> {
        ok(apply_resource_change(&*self.0, r.into_inner()).await)
    }
    async fn import_resource_state(
        &self,
        r: Request<pb::import_resource_state::Request>,
    ) -> R<pb::import_resource_state::Response> {
        ok(import_resource_state(&*self.0, r.into_inner()).await)
    }
    async fn move_resource_state(
        &self,
        _: Request<pb::move_resource_state::Request>,
    ) -> R<pb::move_resource_state::Response> {
        not_offered("moving state from another resource type")
    }
    async fn read_data_source(
        &self,
        r: Request<pb::read_data_source::Request>,
    ) -> R<pb::read_data_source::Response> {
        ok(read_data_source(&*self.0, r.into_inner()).await)
    }
    async fn generate_resource_config(
        &self,
        _: Request<pb::generate_resource_config::Request>,
    ) -> R<pb::generate_resource_config::Response> {
        not_offered("configuration generation")
    }
    async fn validate_ephemeral_resource_config(
        &self,
        _: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> R<pb::validate_ephemeral_resource_config::Response> {
        not_offered("ephemeral resource")
    }
    async fn open_ephemeral_resource(
        &self,
        _: Request<pb::open_ephemeral_resource::Request>,
    ) -> R<pb::open_ephemeral_resource::Response> {
        not_offered("ephemeral resource")
    }
    async fn renew_ephemeral_resource(
        &self,
        _: Request<pb::renew_ephemeral_resource::Request>,
    ) -> R<pb::renew_ephemeral_resource::Response> {
        not_offered("ephemeral resource")
    }
    async fn close_ephemeral_resource(
        &self,
        _: Request<pb::close_ephemeral_resource::Request>,
    ) -> R<pb::close_ephemeral_resource::Response> {
        not_offered("ephemeral resource")
    }
    type ListResourceStream = BoxStream<pb::list_resource::Event>;
    async fn list_resource(
        &self,
        _: Request<pb::list_resource::Request>,
    ) -> R<Self::ListResourceStream> {
        ok(one_event(pb::list_resource::Event {
            diagnostic: unsupported("list resource"),
            ..Default::default()
        }))
    }
    async fn validate_list_resource_config(
        &self,
        _: Request<pb::validate_list_resource_config::Request>,
    ) -> R<pb::validate_list_resource_config::Response> {
        not_offered("list resource")
    }
    async fn get_functions(
        &self,
        _: Request<pb::get_functions::Request>,
    ) -> R<pb::get_functions::Response> {
        ok(Default::default())
    }
    async fn call_function(
        &self,
        r: Request<pb::call_function::Request>,
    ) -> R<pb::call_function::Response> {
        ok(pb::call_function::Response {
            result: None,
            error: Some(pb::FunctionError {
                text: format!(
                    "This provider offers no function {:?}.",
                    r.into_inner().name
                ),
                function_argument: None,
            }),
        })
    }
    async fn validate_action_config(
        &self,
        _: Request<pb::validate_action_config::Request>,
    ) -> R<pb::validate_action_config::Response> {
        not_offered("action")
    }
    async fn plan_action(
        &self,
        _: Request<pb::plan_action::Request>,
    ) -> R<pb::plan_action::Response> {
        not_offered("action")
    }
    type InvokeActionStream = BoxStream<pb::invoke_action::Event>;
    async fn invoke_action(
        &self,
        _: Request<pb::invoke_action::Request>,
    ) -> R<Self::InvokeActionStream> {
        use pb::invoke_action::event::{Completed, Type};
        ok(one_event(pb::invoke_action::Event {
            r#type: Some(Type::Completed(Completed {
                diagnostics: unsupported("action"),
            })),
        }))
    }
    async fn stop(&self, _: Request<pb::stop::Request>) -> R<pb::stop::Response> {
        self.0.stop();
        ok(pb::stop::Response {
            error: String::new(),
        })
    }
}
