//! The outbox and audit protocol: each applied command yields its events and, when the request
//! names who asked, one audit record; the engine hands them to the backend in the batch's
//! transaction, after the effects, so an effect and its event and audit record commit together.

/// Who asked, for the audit record of a command.
#[derive(Debug, Clone, Default)]
pub struct AuditContext {
    /// An API key id, `cli`, `anonymous`, or `system:…`.
    pub actor: String,
    /// The request id.
    pub request_id: Option<String>,
    /// The client address.
    pub ip: Option<String>,
}

/// An event a command publishes, as the backend describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// e.g. `transfer.posted`.
    pub kind: &'static str,
    /// e.g. `transfer`.
    pub resource_type: &'static str,
    /// The resource's id.
    pub resource_id: String,
    /// The resource as the API shows it (JSON).
    pub data: String,
}

/// A command's audit entry, as the backend describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// e.g. `transfer.create`.
    pub action: String,
    /// The resource it names before it runs: (type, id).
    pub resource: Option<(&'static str, String)>,
    /// JSON details.
    pub details: String,
}

/// What one command leaves in the outbox.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Described {
    /// Events, in order.
    pub events: Vec<Event>,
    /// The audit entry; asked for only when the request is audited.
    pub audit: Option<AuditEntry>,
}

/// An event about to be appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// e.g. `transfer.posted`.
    pub kind: &'static str,
    /// e.g. `transfer`.
    pub resource_type: &'static str,
    /// The resource's id.
    pub resource_id: String,
    /// JSON.
    pub data: String,
    /// The request that caused it.
    pub request_id: Option<String>,
}

/// An audit record about to be appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAudit {
    /// Who asked.
    pub actor: String,
    /// What.
    pub action: String,
    /// Resource type.
    pub resource_type: Option<String>,
    /// Resource id.
    pub resource_id: Option<String>,
    /// `success` or `failure`.
    pub result: &'static str,
    /// The request id.
    pub request_id: Option<String>,
    /// The client address.
    pub ip: Option<String>,
    /// JSON details.
    pub details: String,
}

/// Adds one command's events and audit record to the batch's outbox.
pub(crate) fn record(
    described: Described,
    audit: Option<&AuditContext>,
    succeeded: bool,
    events: &mut Vec<NewEvent>,
    audits: &mut Vec<NewAudit>,
) {
    let request_id = audit.and_then(|a| a.request_id.clone());
    for e in described.events {
        events.push(NewEvent {
            kind: e.kind,
            resource_type: e.resource_type,
            resource_id: e.resource_id,
            data: e.data,
            request_id: request_id.clone(),
        });
    }
    let (Some(ctx), Some(entry)) = (audit, described.audit) else { return };
    let (resource_type, resource_id) = match entry.resource {
        Some((t, id)) => (Some(t.to_string()), Some(id)),
        None => (None, None),
    };
    audits.push(NewAudit {
        actor: ctx.actor.clone(),
        action: entry.action,
        resource_type,
        resource_id,
        result: if succeeded { "success" } else { "failure" },
        request_id,
        ip: ctx.ip.clone(),
        details: entry.details,
    });
}
