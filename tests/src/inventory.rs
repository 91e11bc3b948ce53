//! The schema's method inventory, for coverage reports ("which methods do we support?").

use std::fmt;

use crate::schema::Schema;

/// Which union of the schema a method belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MethodKind {
    /// Client→server request (`ClientRequest.json`).
    ClientRequest,
    /// Client→server notification (`ClientNotification.json`).
    ClientNotification,
    /// Server→client notification (`ServerNotification.json`).
    ServerNotification,
    /// Server→client request (`ServerRequest.json`).
    ServerRequest,
}

impl MethodKind {
    /// Every kind, in report order.
    pub const ALL: [MethodKind; 4] = [
        MethodKind::ClientRequest,
        MethodKind::ClientNotification,
        MethodKind::ServerNotification,
        MethodKind::ServerRequest,
    ];
}

impl fmt::Display for MethodKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MethodKind::ClientRequest => "client request",
            MethodKind::ClientNotification => "client notification",
            MethodKind::ServerNotification => "server notification",
            MethodKind::ServerRequest => "server request",
        })
    }
}

/// Every method name in the schema, per kind, in schema order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MethodInventory {
    /// Client→server request methods (184 in 0.169.0 `--experimental`).
    pub client_requests: Vec<String>,
    /// Client→server notification methods (`initialized`).
    pub client_notifications: Vec<String>,
    /// Server→client notification methods (86).
    pub server_notifications: Vec<String>,
    /// Server→client request methods (11).
    pub server_requests: Vec<String>,
}

impl MethodInventory {
    /// The names of one kind, in schema order.
    pub fn of(&self, kind: MethodKind) -> &[String] {
        match kind {
            MethodKind::ClientRequest => &self.client_requests,
            MethodKind::ClientNotification => &self.client_notifications,
            MethodKind::ServerNotification => &self.server_notifications,
            MethodKind::ServerRequest => &self.server_requests,
        }
    }

    /// Every `(kind, method)` pair, kinds in [`MethodKind::ALL`] order, names in schema order.
    pub fn iter(&self) -> impl Iterator<Item = (MethodKind, &str)> + '_ {
        MethodKind::ALL.into_iter().flat_map(move |k| self.of(k).iter().map(move |m| (k, m.as_str())))
    }

    /// A Markdown support table: one section per kind with a `supported / total` count, then
    /// one row per method marked by `supported(kind, method)`.
    pub fn support_table(&self, supported: impl Fn(MethodKind, &str) -> bool) -> String {
        let mut out = String::new();
        for kind in MethodKind::ALL {
            let names = self.of(kind);
            let marks: Vec<bool> = names.iter().map(|m| supported(kind, m)).collect();
            let yes = marks.iter().filter(|&&b| b).count();
            out.push_str(&format!("## {kind}s: {yes} / {} supported\n\n", names.len()));
            out.push_str("| method | supported |\n|---|---|\n");
            for (name, ok) in names.iter().zip(marks) {
                out.push_str(&format!("| `{name}` | {} |\n", if ok { "yes" } else { "no" }));
            }
            out.push('\n');
        }
        out
    }
}

impl Schema {
    /// Every client request, client notification, server notification and server request
    /// method in the schema, in schema order.
    pub fn inventory(&self) -> MethodInventory {
        let names = |entries: &[crate::MethodEntry]| entries.iter().map(|e| e.name.clone()).collect();
        MethodInventory {
            client_requests: names(self.client_requests()),
            client_notifications: names(self.client_notifications()),
            server_notifications: names(self.server_notifications()),
            server_requests: names(self.server_requests()),
        }
    }
}

/// The inventory of the shared schema ([`Schema::load`]).
pub fn method_inventory() -> MethodInventory {
    Schema::load().inventory()
}
