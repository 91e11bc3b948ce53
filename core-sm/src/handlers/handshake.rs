//! `initialize`: once per connection, capabilities fixed for its lifetime.

use std::collections::BTreeSet;

use crate::connection::{is_valid_header_value, ClientSession};
use crate::ids::ConnectionId;
use crate::machine::Machine;
use crate::wire::requests::{InitializeParams, InitializeResponse};
use crate::wire::{ErrorObject, RequestId};

impl Machine {
    pub(crate) fn handle_initialize(&mut self, conn: ConnectionId, id: RequestId, params: InitializeParams) {
        let Some(connection) = self.connections.get(&conn) else {
            return;
        };
        if connection.is_initialized() {
            return self.respond_error(conn, &id, ErrorObject::invalid_request("Already initialized"));
        }
        let name = params.client_info.name;
        if !is_valid_header_value(&name) {
            let message = format!("Invalid clientInfo.name: '{name}'. Must be a valid HTTP header value.");
            return self.respond_error(conn, &id, ErrorObject::invalid_request(message));
        }
        let caps = params.capabilities.unwrap_or_default();
        let originator = self.originator.get_or_insert_with(|| name.clone()).clone();
        let c = &self.config;
        let response = InitializeResponse {
            user_agent: format!(
                "{originator}/{} ({}; {}) {} ({name}; {})",
                c.server_version, c.os_version, c.arch, c.terminal, params.client_info.version
            ),
            codex_home: c.home.clone(),
            platform_family: c.platform_family.clone(),
            platform_os: c.platform_os.clone(),
        };
        let session = ClientSession {
            client_name: name,
            experimental_api: caps.experimental_api,
            opt_out: caps
                .opt_out_notification_methods
                .unwrap_or_default()
                .into_iter()
                .collect::<BTreeSet<_>>(),
        };
        if let Some(connection) = self.connections.get_mut(&conn) {
            connection.session = Some(session);
        }
        self.respond(conn, &id, &response);
    }
}
