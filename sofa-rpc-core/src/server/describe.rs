//! The metadata a server answers about its own exports.

use crate::extension::ExtensionLoader;
use crate::metadata::{MetadataService, ServiceDescription};

use super::ProviderConfig;

/// The metadata service for `providers`, under the ids and serializations they are exported
/// with (a provider config may override the definition's version and uniqueId).
pub(super) fn metadata_service(
    providers: &[ProviderConfig],
    loader: &ExtensionLoader,
) -> MetadataService {
    let serializations: Vec<String> = loader
        .serializers()
        .sorted_names()
        .into_iter()
        .map(str::to_string)
        .collect();
    let services = providers
        .iter()
        .map(|provider| {
            let id = provider.service_id();
            ServiceDescription {
                interface: id.interface().to_string(),
                version: id.version().to_string(),
                unique_id: id.unique_id().to_string(),
                unique_name: id.unique_name().to_string(),
                serialization: provider.serialization.clone(),
                serializations: serializations.clone(),
                methods: provider
                    .dispatch
                    .method_descriptors()
                    .into_iter()
                    .map(Into::into)
                    .collect(),
            }
        })
        .collect();
    MetadataService::new(services)
}
