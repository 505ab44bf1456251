//! What each route needs, and what each role may. A route names one permission; a role is a
//! set of permissions, not a rank, so roles to come (a compliance analyst who reads cases and
//! clears sanctions hits, a reconciliation clerk, a vault operator) are new sets, not new
//! places in a line. A route missing from [`ROUTES`] needs [`Permission::Administer`]: what is
//! forgotten is closed, not open.

use axum::http::Method;
use rialto_store::Role;

/// What a request may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read accounts, transfers, payments, risk data, events.
    Read,
    /// Move money and change ledger and payment state: users, accounts, transfers, payments,
    /// refunds, settlements, credit scores, webhook endpoints.
    Write,
    /// Decide on held payments, label them, change users' status and KYC, backtest rules.
    Review,
    /// Keys, risk rules, lists and models, the audit log, the configuration.
    Administer,
}

use Permission::{Administer, Read, Review, Write};

/// Every role, with what it may.
pub const ROLES: &[(Role, &[Permission])] = &[
    (Role::Reader, &[Read]),
    (Role::Writer, &[Read, Write]),
    (Role::Reviewer, &[Read, Write, Review]),
    (Role::Admin, &[Read, Write, Review, Administer]),
];

impl Permission {
    /// The permission's name in error messages and the API description.
    pub fn as_str(self) -> &'static str {
        match self {
            Read => "read",
            Write => "write",
            Review => "review",
            Administer => "administer",
        }
    }

    /// The roles that have this permission, by name.
    pub fn roles(self) -> Vec<&'static str> {
        ROLES.iter().filter(|(_, ps)| ps.contains(&self)).map(|(r, _)| r.as_str()).collect()
    }
}

/// True when `role` has `permission`.
pub fn allows(role: Role, permission: Permission) -> bool {
    ROLES.iter().any(|(r, ps)| *r == role && ps.contains(&permission))
}

/// Every `/v1` operation: method, route (as the router declares it), permission.
#[rustfmt::skip]
pub const ROUTES: &[(&str, &str, Permission)] = &[
    ("POST", "/v1/users", Write),
    ("GET", "/v1/users", Read),
    ("GET", "/v1/users/{id}", Read),
    ("POST", "/v1/accounts", Write),
    ("GET", "/v1/accounts", Read),
    ("GET", "/v1/accounts/{id}", Read),
    ("POST", "/v1/accounts/{id}/freeze", Write),
    ("POST", "/v1/accounts/{id}/unfreeze", Write),
    ("POST", "/v1/accounts/{id}/close", Write),
    ("GET", "/v1/accounts/{id}/entries", Read),
    ("GET", "/v1/accounts/{id}/balance", Read),
    ("POST", "/v1/transfers", Write),
    ("GET", "/v1/transfers", Read),
    ("GET", "/v1/transfers/{id}", Read),
    ("POST", "/v1/transfers/{id}/post", Write),
    ("POST", "/v1/transfers/{id}/void", Write),
    ("POST", "/v1/transfers/{id}/reverse", Write),
    ("POST", "/v1/journal-entries", Write),
    ("GET", "/v1/journal-entries/{id}", Read),
    ("GET", "/v1/ledger/verify", Read),
    ("GET", "/v1/api-keys", Administer),
    ("POST", "/v1/api-keys", Administer),
    ("POST", "/v1/api-keys/{id}/revoke", Administer),
    ("POST", "/v1/payments", Write),
    ("GET", "/v1/payments", Read),
    ("GET", "/v1/payments/{id}", Read),
    ("POST", "/v1/payments/{id}/approve", Review),
    ("POST", "/v1/payments/{id}/decline", Review),
    ("POST", "/v1/payments/{id}/labels", Review),
    ("GET", "/v1/payments/{id}/labels", Read),
    ("GET", "/v1/reviews", Read),
    ("POST", "/v1/payments/{id}/cancel", Write),
    ("POST", "/v1/payments/{id}/refunds", Write),
    ("POST", "/v1/users/{id}", Review),
    ("POST", "/v1/settlements", Write),
    ("GET", "/v1/settlements/{id}", Read),
    ("POST", "/v1/webhook-endpoints", Write),
    ("GET", "/v1/webhook-endpoints", Read),
    ("GET", "/v1/webhook-endpoints/{id}", Read),
    ("POST", "/v1/webhook-endpoints/{id}", Write),
    ("DELETE", "/v1/webhook-endpoints/{id}", Write),
    ("POST", "/v1/webhook-endpoints/{id}/rotate-secret", Write),
    ("GET", "/v1/webhook-endpoints/{id}/deliveries", Read),
    ("GET", "/v1/config", Administer),
    ("GET", "/v1/event-types", Read),
    ("GET", "/v1/tasks", Read),
    ("GET", "/v1/risk/rules", Read),
    ("POST", "/v1/risk/rules", Administer),
    ("POST", "/v1/risk/rules/backtest", Review),
    ("POST", "/v1/credit-scores", Write),
    ("GET", "/v1/credit-scores/{id}", Read),
    ("GET", "/v1/risk/rules/{id}", Read),
    ("PUT", "/v1/risk/rules/{id}", Administer),
    ("DELETE", "/v1/risk/rules/{id}", Administer),
    ("GET", "/v1/risk/assessments/{id}", Read),
    ("GET", "/v1/risk/models", Read),
    ("POST", "/v1/risk/models", Administer),
    ("POST", "/v1/risk/models/train", Administer),
    ("POST", "/v1/risk/models/rollback", Administer),
    ("GET", "/v1/risk/models/{id}", Read),
    ("POST", "/v1/risk/models/{id}/deploy", Administer),
    ("POST", "/v1/risk/models/{id}/challenger", Administer),
    ("GET", "/v1/users/{id}/risk", Read),
    ("GET", "/v1/risk/lists/{id}", Read),
    ("POST", "/v1/risk/lists/{id}/items", Administer),
    ("GET", "/v1/events", Read),
    ("GET", "/v1/audit-events", Administer),
    ("GET", "/v1/audit/verify", Administer),
    ("DELETE", "/v1/risk/lists/{name}/items/{value}", Administer),
];

/// The permission of `method` on the matched `route` (`HEAD` as `GET`).
pub fn needed(method: &Method, route: &str) -> Permission {
    let method = if method == Method::HEAD { "GET" } else { method.as_str() };
    ROUTES.iter().find(|(m, r, _)| *m == method && *r == route).map_or(Administer, |(_, _, p)| *p)
}

/// Every role's name, for help texts and errors: `admin, reviewer, writer, reader`.
pub fn role_names() -> String {
    ROLES.iter().rev().map(|(r, _)| r.as_str()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_sets_of_permissions() {
        assert!(allows(Role::Reader, Read) && !allows(Role::Reader, Write));
        assert!(allows(Role::Writer, Write) && !allows(Role::Writer, Review));
        assert!(allows(Role::Reviewer, Review) && !allows(Role::Reviewer, Administer));
        assert!(allows(Role::Admin, Administer));
        assert_eq!(Review.roles(), ["reviewer", "admin"]);
        assert_eq!(role_names(), "admin, reviewer, writer, reader");
    }

    #[test]
    fn routes_name_their_permission_once_and_unknown_ones_are_closed() {
        assert_eq!(needed(&Method::GET, "/v1/accounts"), Read);
        assert_eq!(needed(&Method::HEAD, "/v1/accounts"), Read);
        assert_eq!(needed(&Method::POST, "/v1/transfers"), Write);
        assert_eq!(needed(&Method::POST, "/v1/payments/{id}/approve"), Review);
        assert_eq!(needed(&Method::GET, "/v1/api-keys"), Administer);
        assert_eq!(needed(&Method::GET, "/v1/not-a-route"), Administer);
        for (i, (m, r, _)) in ROUTES.iter().enumerate() {
            assert!(!ROUTES[i + 1..].iter().any(|(m2, r2, _)| m2 == m && r2 == r), "{m} {r} twice");
        }
    }
}
